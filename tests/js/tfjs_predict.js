// Loads a TensorFlow.js Layers model with @tensorflow/tfjs under Node and prints its
// predictions as JSON, so the Python tests can compare them with neuroflow's.
//
//   node tfjs_predict.js <tfjs_dir> <model.json URL> <inputs.json>
//
// <tfjs_dir> holds node_modules/@tensorflow/tfjs (tools/install_js_runtimes.sh installs
// it outside the repository); inputs.json is [{"shape": [...], "data": [...]}, ...].
// The model is fetched over HTTP, as a browser would, so the weights manifest's paths and
// shards go through tfjs's own loader.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [tfjsDir, url, inputsPath] = process.argv.slice(2);
  const tf = require(path.join(tfjsDir, 'node_modules', '@tensorflow', 'tfjs'));
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel(url);
  const specs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const inputs = specs.map((s) => tf.tensor(s.data, s.shape, s.dtype || 'float32'));
  let outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  if (!Array.isArray(outputs)) outputs = [outputs];
  const result = {
    outputs: outputs.map((t) => ({shape: t.shape, data: Array.from(t.dataSync())})),
    weights: model.weights.map((w) => w.originalName),
  };
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
