#!/usr/bin/env node
// Turns nsfwjs's bundled InceptionV3 (model.min.js + group1-shard*of6.min.js, UMD modules that
// export the model.json object and base64 shard strings) into a standard TF.js layers folder:
// model.json whose weightsManifest paths name binary shard files beside it.
// Usage: node tools/unwrap_nsfwjs.js SRC_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`unwrap_nsfwjs: error: ${message}\n`);
  process.exit(2);
}

const [srcDir, outDir] = process.argv.slice(2);
if (!srcDir || !outDir) fail('usage: node tools/unwrap_nsfwjs.js SRC_DIR OUT_DIR');

const modelFile = path.resolve(srcDir, 'model.min.js');
if (!fs.existsSync(modelFile)) fail(`${modelFile} does not exist`);
const model = require(modelFile);
if (!model || typeof model !== 'object' || !model.modelTopology || !Array.isArray(model.weightsManifest))
  fail(`${modelFile} does not export a TF.js layers model (modelTopology + weightsManifest)`);

fs.mkdirSync(outDir, { recursive: true });
const manifest = model.weightsManifest.map((group) => {
  const paths = group.paths.map((name) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) fail(`unexpected shard name '${name}'`);
    const shardFile = path.resolve(srcDir, `${name}.min.js`);
    if (!fs.existsSync(shardFile)) fail(`${shardFile} does not exist`);
    const encoded = require(shardFile);
    if (typeof encoded !== 'string') fail(`${shardFile} does not export a base64 string`);
    const bytes = Buffer.from(encoded, 'base64');
    const outName = `${name}.bin`;
    fs.writeFileSync(path.join(outDir, outName), bytes);
    return outName;
  });
  return { paths, weights: group.weights };
});

const out = { format: 'layers-model', modelTopology: model.modelTopology, weightsManifest: manifest };
const tmp = path.join(outDir, 'model.json.tmp');
fs.writeFileSync(tmp, JSON.stringify(out));
fs.renameSync(tmp, path.join(outDir, 'model.json'));
