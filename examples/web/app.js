// Classifies a drawn or chosen image with the Fashion-MNIST CNN exported by
// neuroflow.js.save_keras_model (model/model.json), and shows the top 3 classes.
//
// Query string options: ?backend=cpu picks a tfjs backend; ?test=FILE.json (a JSON
// {"images": [[784 pixel values 0-255], ...]}) classifies those images, shows them in a
// grid and writes the results as JSON into #test-results, for automated checks.
'use strict';

const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
                     'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const SIZE = 28;
const params = new URLSearchParams(window.location.search);
const setStatus = (text) => { document.getElementById('status').textContent = text; };

// Probabilities of the 10 classes for 784 grey levels 0-255 (white item on black, like
// Fashion-MNIST; the model rescales the pixels itself).
function classify(model, pixels) {
  const probabilities = tf.tidy(() =>
    model.predict(tf.tensor4d(pixels, [1, SIZE, SIZE, 1], 'float32')).dataSync());
  return Array.from(probabilities);
}

function top3(probabilities, names) {
  return probabilities.map((p, index) => ({index, name: names[index], probability: p}))
    .sort((a, b) => b.probability - a.probability).slice(0, 3);
}

function showTop3(best) {
  const list = document.getElementById('results');
  list.innerHTML = '';
  for (const {name, probability} of best) {
    const item = document.createElement('li');
    item.textContent = `${name}: ${(100 * probability).toFixed(1)}%`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round(150 * probability)}px`;
    item.appendChild(bar);
    list.appendChild(item);
  }
}

// Scales any image source into the 28x28 preview and reads grey levels. Photos usually
// show a dark item on a light background, the opposite of Fashion-MNIST, so a light
// border means the image is inverted first.
function pixelsOf(source, width, height) {
  const preview = document.getElementById('preview');
  const context = preview.getContext('2d');
  context.fillStyle = '#000';
  context.fillRect(0, 0, SIZE, SIZE);
  const scale = Math.min(SIZE / width, SIZE / height);
  const w = width * scale, h = height * scale;
  context.drawImage(source, (SIZE - w) / 2, (SIZE - h) / 2, w, h);
  const rgba = context.getImageData(0, 0, SIZE, SIZE).data;
  const grey = new Float32Array(SIZE * SIZE);
  let border = 0, borderCount = 0;
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    const x = i % SIZE, y = Math.floor(i / SIZE);
    if (x === 0 || y === 0 || x === SIZE - 1 || y === SIZE - 1) {
      border += grey[i];
      borderCount++;
    }
  }
  if (border / borderCount > 127) {
    for (let i = 0; i < grey.length; i++) grey[i] = 255 - grey[i];
  }
  const shown = context.createImageData(SIZE, SIZE);
  for (let i = 0; i < grey.length; i++) {
    shown.data.set([grey[i], grey[i], grey[i], 255], 4 * i);
  }
  context.putImageData(shown, 0, 0);
  return grey;
}

function setUpDrawing(onDone) {
  const canvas = document.getElementById('draw');
  const context = canvas.getContext('2d');
  const clear = () => { context.fillStyle = '#000'; context.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  context.strokeStyle = '#fff';
  context.lineWidth = 22;
  context.lineCap = context.lineJoin = 'round';
  let drawing = false;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener('pointerdown', (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    context.beginPath();
    context.moveTo(...point(event));
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    context.lineTo(...point(event));
    context.stroke();
  });
  canvas.addEventListener('pointerup', () => { drawing = false; onDone(canvas); });
  document.getElementById('clear').addEventListener('click', () => {
    clear();
    document.getElementById('results').innerHTML = '';
  });
}

function setUpFilePicker(onImage) {
  document.getElementById('file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const image = new Image();
    image.onload = () => { onImage(image); URL.revokeObjectURL(image.src); };
    image.src = URL.createObjectURL(file);
  });
}

async function runTest(model, names, url) {
  const {images} = await (await fetch(url)).json();
  const grid = document.getElementById('test-grid');
  const results = images.map((pixels) => {
    const probabilities = classify(model, pixels);
    const best = top3(probabilities, names);
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = SIZE;
    const picture = canvas.getContext('2d').createImageData(SIZE, SIZE);
    pixels.forEach((v, i) => picture.data.set([v, v, v, 255], 4 * i));
    canvas.getContext('2d').putImageData(picture, 0, 0);
    const caption = document.createElement('figcaption');
    caption.innerHTML = best.map((b) => `${b.name} ${(100 * b.probability).toFixed(1)}%`)
      .join('<br>');
    figure.append(canvas, caption);
    grid.appendChild(figure);
    return {top3: best, probabilities};
  });
  // The drawing path too: the first image, enlarged onto the drawing canvas, goes through
  // the same downscaling and top-3 list a user's drawing does.
  const draw = document.getElementById('draw');
  const context = draw.getContext('2d');
  context.imageSmoothingEnabled = false;
  context.drawImage(grid.querySelector('canvas'), 0, 0, draw.width, draw.height);
  const pixels = pixelsOf(draw, draw.width, draw.height);
  const best = top3(classify(model, pixels), names);
  showTop3(best);
  const shown = Array.from(document.querySelectorAll('#results li'), (li) => li.textContent);
  const drawn = {pixels: Array.from(pixels), top3: best, shown};
  document.getElementById('test-results').textContent = JSON.stringify({results, drawn});
}

async function main() {
  if (params.get('backend')) await tf.setBackend(params.get('backend'));
  await tf.ready();
  const model = await tf.loadLayersModel('model/model.json');
  const metadata = model.getUserDefinedMetadata() || {};
  const names = metadata.class_names || CLASS_NAMES;
  setStatus(`Model loaded (TensorFlow.js ${tf.version.tfjs}, ${tf.getBackend()} backend). ` +
         'Draw an item or pick a picture.');
  const show = (source, width, height) =>
    showTop3(top3(classify(model, pixelsOf(source, width, height)), names));
  setUpDrawing((canvas) => show(canvas, canvas.width, canvas.height));
  setUpFilePicker((image) => show(image, image.naturalWidth, image.naturalHeight));
  if (params.get('test')) await runTest(model, names, params.get('test'));
}

main().catch((error) => {
  setStatus(`Error: ${error.message}`);
  document.getElementById('test-results').textContent = JSON.stringify({error: String(error)});
});
