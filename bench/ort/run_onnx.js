// Times one ONNX model in ONNX Runtime (CPU) for bench/compare_fast.py.
//
//   npm ci --ignore-scripts          (once, in bench/ort)
//   node bench/ort/run_onnx.js --model M.onnx --input X.f32 --shape 1,3,512,512 \
//        [--threads 1] [--repeat 3] [--output Y.f32]
//
// X.f32 holds the model's one input as raw float32 little-endian; --output writes
// its first output the same way. One warm-up run, then the best of --repeat
// session.run calls. Prints one JSON record on stdout:
//   {"ort": version, "threads", "shape", "output_shape", "seconds": [...], "best_seconds"}
"use strict";

const fs = require("fs");
const ort = require("onnxruntime-node");

function parseArgs(argv) {
  const args = { threads: 1, repeat: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (i + 1 >= argv.length) throw new Error(`run_onnx: --${key} needs a value`);
    args[key] = argv[i + 1];
  }
  for (const need of ["model", "input", "shape"])
    if (!(need in args)) throw new Error(`run_onnx: --${need} is required`);
  args.threads = Number(args.threads);
  args.repeat = Number(args.repeat);
  args.shape = args.shape.split(",").map(Number);
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const bytes = fs.readFileSync(args.input);
  const count = args.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4)
    throw new Error(`run_onnx: '${args.input}' has ${bytes.length} bytes, shape needs ${count * 4}`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, args.shape) };

  let result = await session.run(feeds);  // warm-up
  const seconds = [];
  for (let r = 0; r < args.repeat; ++r) {
    const t0 = process.hrtime.bigint();
    result = await session.run(feeds);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const out = result[session.outputNames[0]];
  if (args.output) fs.writeFileSync(args.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  const version = require("onnxruntime-node/package.json").version;
  console.log(JSON.stringify({
    ort: version, threads: args.threads, shape: args.shape, output_shape: out.dims,
    seconds, best_seconds: Math.min(...seconds),
  }));
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
