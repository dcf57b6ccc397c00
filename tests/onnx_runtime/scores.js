// ONNX Runtime (CPU) as an independent runner of an exported model: feeds a float32 NHWC
// tensor file to input `image` and prints output `scores` as JSON, one array per image,
// every float in full precision. Usage: node scores.js MODEL.onnx INPUT.f32
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
    const [modelPath, inputPath] = process.argv.slice(2);
    if (!inputPath) throw new Error('usage: node scores.js MODEL.onnx INPUT.f32');
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
    const shape = session.inputMetadata[0].shape;
    const imageFloats = shape[1] * shape[2] * shape[3];
    const raw = fs.readFileSync(inputPath);
    const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    const count = input.length / imageFloats;
    if (!Number.isInteger(count) || count < 1) throw new Error(`${inputPath} is not a whole number of images`);
    const { scores } = await session.run({ image: new ort.Tensor('float32', input, [count, shape[1], shape[2], shape[3]]) });
    const classes = scores.dims[1];
    const rows = [];
    for (let i = 0; i < count; ++i) rows.push(Array.from(scores.data.subarray(i * classes, (i + 1) * classes)));
    console.log(JSON.stringify({ version: require('onnxruntime-node/package.json').version, input: shape, scores: rows }));
}

main().catch((e) => {
    console.error(`scores.js: ${e.message}`);
    process.exit(1);
});
