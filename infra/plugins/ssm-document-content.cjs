'use strict';
/* global module */

// Puts the SSM Command document into the template once configuration variables are resolved: the
// diagnostic script is full of shell `${name:-default}` expansions, which `${file(...)}` would hand to
// the framework's own variable resolver.

const DOCUMENT_FILE = 'infra/ssm/fleet-audit-diagnostics.json';
const RESOURCE = 'DiagnosticsDocument';

class SsmDocumentContent {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.putContent() };
  }

  putContent() {
    const { serverless } = this;
    const resources = serverless.service.resources && serverless.service.resources.Resources;
    const document = resources && resources[RESOURCE];
    if (!document || !document.Properties) {
      throw new serverless.classes.Error(`ssm-document-content: no ${RESOURCE} resource with Properties in resources`);
    }
    let content;
    try {
      // The framework's reader parses JSON by the file's extension.
      content = serverless.utils.readFileSync(`${serverless.serviceDir}/${DOCUMENT_FILE}`);
    } catch (error) {
      throw new serverless.classes.Error(`ssm-document-content: cannot read ${DOCUMENT_FILE}: ${error.message}`);
    }
    if (!content || content.schemaVersion !== '2.2' || !Array.isArray(content.mainSteps)) {
      throw new serverless.classes.Error(
        `ssm-document-content: ${DOCUMENT_FILE} is not an SSM Command document (schemaVersion 2.2 with mainSteps)`,
      );
    }
    document.Properties.Content = content;
  }
}

module.exports = SsmDocumentContent;
