// ONNX Runtime peer (onnxruntime-node, CPU execution provider) for tinception's whole-trunk
// benchmark. Usage: node ort_peer.js MODEL.onnx BATCHES THREADS ITERATIONS
// e.g. node ort_peer.js model/inception_v3_features.onnx 1,8 1,2 10; prints TSV rows.
'use strict';
const ort = require('onnxruntime-node');

async function main() {
    const [model, batchText = '1,8', threadsText = '1,2', iterationsText = '10'] = process.argv.slice(2);
    if (!model) throw new Error('usage: node ort_peer.js MODEL.onnx [BATCHES] [THREADS] [ITERATIONS]');
    const batches = batchText.split(',').map(Number);
    const threadsList = threadsText.split(',').map(Number);
    const iterations = Number(iterationsText);
    const warmup = 2;
    console.error(`# onnxruntime-node ${require('onnxruntime-node/package.json').version}`);
    for (const threads of threadsList) {
        const session = await ort.InferenceSession.create(model, {
            executionProviders: ['cpu'],
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            executionMode: 'sequential',
            graphOptimizationLevel: 'all',
        });
        for (const batch of batches) {
            const data = new Float32Array(batch * 3 * 299 * 299);
            for (let i = 0; i < data.length; ++i) data[i] = Math.random();
            const feeds = { input: new ort.Tensor('float32', data, [batch, 3, 299, 299]) };
            for (let i = 0; i < warmup; ++i) await session.run(feeds);
            const times = [];
            for (let i = 0; i < iterations; ++i) {
                const start = process.hrtime.bigint();
                await session.run(feeds);
                times.push(Number(process.hrtime.bigint() - start) / 1e6);
            }
            times.sort((a, b) => a - b);
            const m = times.length >> 1;
            const median = times.length % 2 ? times[m] : 0.5 * (times[m - 1] + times[m]);
            console.log(`onnxruntime\t${batch}\t${threads}\t${(median / batch).toFixed(3)}`);
        }
        await session.release();
    }
}

main().catch((err) => {
    console.error(`ort_peer: ${err.message}`);
    process.exit(1);
});
