// Bundles each function with esbuild before packaging, so that each ships only what it imports.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

class BundlePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundleAll(),
      'before:deploy:function:packageFunction': () => this.bundleAll(),
    };
  }

  bundleAll() {
    const service = this.serverless.service;
    const root = this.serverless.serviceDir;
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const match = /^functions\/([a-z0-9-]+)\.handler$/.exec(fn.handler);
      if (!match) continue; // already bundled (deploy function reuses the object)
      const outdir = path.join('dist', match[1]);
      esbuild.buildSync({
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
        logLevel: 'warning',
      });
      fn.handler = `${outdir}/index.handler`;
      fn.package = { ...(fn.package || {}), patterns: ['!**', `${outdir}/**`] };
    }
  }
}

module.exports = BundlePlugin;
