'use strict';
/* global module */

// The IAM condition "the node carries the target tag" (any value), or "the target tag with one of the
// configured values" when targetTagValues is set, for SendCommand on instances. A condition key holds the
// tag key, and configuration variables are not resolved inside keys, so it is built here. The values are
// read as functions/shared/config.ts reads TARGET_TAG_VALUES: comma-separated, trimmed, empty ones dropped.

const TAG_KEY = /^[\p{L}\p{N} +\-=._:/@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{N} +\-=._:/@]{0,256}$/u;

module.exports = async ({ resolveVariable }) => {
  const key = await resolveVariable('param:targetTagKey');
  if (typeof key !== 'string' || !TAG_KEY.test(key)) {
    throw new Error(`targetTagKey ${JSON.stringify(key)} is not an EC2 tag key`);
  }
  const configured = await resolveVariable('param:targetTagValues');
  const values = (configured === undefined || configured === null ? '' : String(configured))
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  for (const value of values) {
    if (!TAG_VALUE.test(value)) throw new Error(`targetTagValues: ${JSON.stringify(value)} is not an EC2 tag value`);
  }
  // StringEquals: a value is matched as written, as SSM's tag targets match it.
  if (values.length > 0) return { StringEquals: { [`ssm:resourceTag/${key}`]: values } };
  return { StringLike: { [`ssm:resourceTag/${key}`]: '*' } };
};
