// Bridges serverless.yml to the TypeScript rules: compiles serverless/deployment.ts in memory
// (esbuild, no build step) so routing and roles come from the rules themselves.
'use strict';
const path = require('node:path');
const Module = require('node:module');
const esbuild = require('esbuild');

let compiled;
function deployment() {
  if (compiled) return compiled;
  const entry = path.join(__dirname, 'deployment.ts');
  const output = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    packages: 'external',
  });
  const loaded = new Module(entry, module);
  loaded.filename = entry;
  loaded.paths = Module._nodeModulePaths(__dirname);
  loaded._compile(output.outputFiles[0].text, entry);
  compiled = loaded.exports;
  return compiled;
}

async function options(resolveVariable) {
  const text = async (name) => String((await resolveVariable(`param:${name}`)) ?? '').trim();
  // true or false, in any case; anything else stops the packaging rather than meaning false.
  const flag = async (name) => {
    const value = (await text(name)).toLowerCase();
    if (!['', 'true', 'false'].includes(value)) throw new Error(`param ${name} must be true or false, not "${await text(name)}"`);
    return value === 'true';
  };
  return {
    service: await resolveVariable('self:service'),
    stage: await resolveVariable('sls:stage'),
    // Replayed events are refused unless a stage turns them on.
    acceptReplay: await flag('acceptReplay'),
    slackSecretName: await text('slackSecretName'),
    ruleModes: await text('ruleModes'),
    ruleParams: (await text('ruleParams')) || '{}',
    permissionsBoundaryArn: await text('permissionsBoundaryArn'),
    hub: await flag('hub'),
    hubAccount: await text('hubAccount'),
    hubRegion: await text('hubRegion'),
    organizationId: await text('organizationId'),
    memberAccounts: (await text('memberAccounts')).split(',').map((entry) => entry.trim()).filter(Boolean),
  };
}

module.exports = {
  functions: async ({ resolveVariable }) => deployment().functionDefinitions(await options(resolveVariable)),
  roles: async ({ resolveVariable }) => deployment().roleResources(await options(resolveVariable)),
  operations: async ({ resolveVariable }) => deployment().operationsResources(await options(resolveVariable)),
  configRules: async () => deployment().configRuleResources(),
  outputs: async ({ resolveVariable }) => deployment().outputs(await options(resolveVariable)),
};
