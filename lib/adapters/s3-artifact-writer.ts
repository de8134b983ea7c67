import type { Artifact, ArtifactWriter } from '../ports/audit-store.ts';
import { BundleError } from './bundle-layout.ts';
import type { S3ObjectAccess } from './s3-object-access.ts';

const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Writes a run's reports beside its evidence; each appears whole (one PutObject, or a completed multipart upload), so no reader sees half a report. */
export class S3ArtifactWriter implements ArtifactWriter {
  readonly #store: S3ObjectAccess;
  readonly #base: string;

  constructor(store: S3ObjectAccess, base: string) {
    this.#store = store;
    this.#base = base;
  }

  async writeArtifact(artifact: Artifact): Promise<string> {
    if (!ARTIFACT_NAME.test(artifact.name)) throw new BundleError(`refusing to store a report named ${JSON.stringify(artifact.name)}`);
    const key = `${this.#base}${artifact.name}`;
    return typeof artifact.body === 'string'
      ? this.#store.put(key, artifact.body, artifact.contentType)
      : this.#store.putStreamed(key, artifact.body, artifact.contentType);
  }
}
