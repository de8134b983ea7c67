'use strict';
/* global module */

// The IAM condition "the node carries the target tag", for SendCommand on instances. A condition key
// holds the tag key, and configuration variables are not resolved inside keys, so it is built here.

module.exports = async ({ resolveVariable }) => {
  const key = await resolveVariable('param:targetTagKey');
  if (typeof key !== 'string' || !/^[\p{L}\p{N} +\-=._:/@]{1,128}$/u.test(key)) {
    throw new Error(`targetTagKey ${JSON.stringify(key)} is not an EC2 tag key`);
  }
  return { StringLike: { [`ssm:resourceTag/${key}`]: '*' } };
};
