// Independent reference features: runs a TensorFlow.js layers model (pure-JS CPU backend)
// on a raw NHWC float32 input and writes each requested layer's output, global-average-
// pooled, as little-endian float32 rows. Used to check tinception's engine against TF.js.
//
// usage: node features.js MODEL_DIR RAW_INPUT OUT_PREFIX LAYER...
//   MODEL_DIR holds model.json and the shard files its weightsManifest names;
//   RAW_INPUT is [N][H][W][C] float32 matching the model's input; one file
//   OUT_PREFIX.<layer>.f32 is written per layer.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');

async function main() {
  const [modelDir, rawInput, outPrefix, ...layers] = process.argv.slice(2);
  if (!layers.length) throw new Error('usage: node features.js MODEL_DIR RAW_INPUT OUT_PREFIX LAYER...');
  await tf.setBackend('cpu');
  const modelJson = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const joined = Buffer.concat(buffers);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.length);
  const model = await tfl.loadLayersModel(
      tf.io.fromMemory({modelTopology: modelJson.modelTopology, weightSpecs, weightData}));

  const [, h, w, c] = model.inputs[0].shape;
  const raw = fs.readFileSync(rawInput);
  const perImage = h * w * c;
  const n = raw.length / 4 / perImage;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${rawInput}: not a whole number of ${h}x${w}x${c} images`);
  const input = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, n * perImage), [n, h, w, c]);

  const outputs = layers.map((name) => model.getLayer(name).output);
  const probe = tfl.model({inputs: model.inputs, outputs});
  let results = probe.predict(input);
  if (!Array.isArray(results)) results = [results];
  layers.forEach((name, i) => {
    const t = results[i];
    const pooled = t.rank === 4 ? tf.mean(t, [1, 2]) : t;
    const data = pooled.dataSync();
    fs.writeFileSync(`${outPrefix}.${name}.f32`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
}

main().catch((e) => { console.error(`features.js: ${e.message}`); process.exit(1); });
