// Classifies images with a model written by `tinception export`, in ONNX Runtime for Node,
// and prints what `tinception guess` prints: `label (score = 0.99636)` lines, highest first.
//
//   npm install onnxruntime-node
//   tinception export heroes.tcm -o heroes.onnx
//   tinception preprocess heroes.tcm photo.jpg -o photo.f32   # the input the model expects
//   node classify_onnx.js heroes.onnx photo.f32
//
// The labels are in the model's metadata_props ('labels', one per line). onnxruntime-node
// does not expose custom metadata, so a few lines of protobuf decoding read them here.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

// Calls visit(fieldNumber, bytes) for each length-delimited field of one protobuf message.
function forEachBytesField(buf, visit) {
    let pos = 0;
    const varint = () => {
        let value = 0, scale = 1, byte;
        do {
            byte = buf[pos++];
            value += (byte & 0x7f) * scale;
            scale *= 128;
        } while (byte & 0x80);
        return value;
    };
    while (pos < buf.length) {
        const key = varint(), wire = key % 8;
        if (wire === 0) varint();
        else if (wire === 1) pos += 8;
        else if (wire === 5) pos += 4;
        else if (wire === 2) {
            const length = varint();
            visit(Math.floor(key / 8), buf.subarray(pos, pos + length));
            pos += length;
        } else throw new Error(`not an ONNX file (protobuf wire type ${wire})`);
    }
}

// ModelProto.metadata_props is field 14: StringStringEntryProto { key = 1, value = 2 }.
function metadataProps(modelBytes) {
    const props = {};
    forEachBytesField(modelBytes, (number, entry) => {
        if (number !== 14) return;
        const kv = {};
        forEachBytesField(entry, (n, bytes) => { kv[n] = bytes.toString('utf8'); });
        props[kv[1]] = kv[2];
    });
    return props;
}

async function main() {
    const [modelPath, inputPath] = process.argv.slice(2);
    if (!inputPath) throw new Error('usage: node classify_onnx.js MODEL.onnx INPUT.f32');
    const labels = metadataProps(fs.readFileSync(modelPath)).labels.split('\n');
    const session = await ort.InferenceSession.create(modelPath);
    const [, height, width, channels] = session.inputMetadata[0].shape;  // [N, 299, 299, 3], NHWC
    const raw = fs.readFileSync(inputPath);
    const count = raw.length / (4 * height * width * channels);
    if (!Number.isInteger(count) || count < 1) throw new Error(`${inputPath} is not a whole number of images`);
    const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    const { scores } = await session.run({ image: new ort.Tensor('float32', input, [count, height, width, channels]) });
    for (let i = 0; i < count; ++i) {
        const row = labels.map((label, k) => ({ label, score: scores.data[i * labels.length + k] }));
        row.sort((a, b) => b.score - a.score);  // stable: ties keep label order, as guess does
        if (count > 1) console.log(`${i ? '\n' : ''}image ${i}:`);
        for (const { label, score } of row) console.log(`${label} (score = ${score.toFixed(5)})`);
    }
}

main().catch((e) => {
    console.error(`classify_onnx: ${e.message}`);
    process.exit(1);
});
