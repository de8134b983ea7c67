'use strict';
/* global module */

// Puts infra/resources/rules.json into the template's Rules section: CloudFormation checks these assertions
// over the parameters before it creates or changes anything, but the framework accepts no Rules under
// `resources`. Only what a single parameter's AllowedPattern cannot say belongs there (parameters set together).

const RULES_FILE = 'infra/resources/rules.json';

class TemplateRules {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.putRules() };
  }

  putRules() {
    const { serverless } = this;
    const template = serverless.service.provider.compiledCloudFormationTemplate;
    let rules;
    try {
      rules = serverless.utils.readFileSync(`${serverless.serviceDir}/${RULES_FILE}`);
    } catch (error) {
      throw new serverless.classes.Error(`template-rules: cannot read ${RULES_FILE}: ${error.message}`);
    }
    if (!rules || typeof rules !== 'object' || Object.keys(rules).length === 0) {
      throw new serverless.classes.Error(`template-rules: ${RULES_FILE} holds no rules`);
    }
    template.Rules = { ...template.Rules, ...rules };
  }
}

module.exports = TemplateRules;
