// The demo page's script (index.html). In an app, import from 'rnnkit/web' (or 'rnnkit'
// through a bundler) instead of the relative path, which reads the repository's build.
import { init, loadModel, tokenizerOf, createModel, CharTokenizer, nextTokenDataset, modelToBlob } from '../../dist/src/web.js';

const $ = (id) => document.getElementById(id);
const out = $('output');
const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
// Thousands separators by hand: the first toLocaleString call loads the locale data, ~20 ms
// of main-thread time on a cold page.
const fmt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The model in use, its tokenizer and a name for downloads; `pretrained` is the one from ./model/. */
const state = { model: null, tok: null, name: 'model', pretrained: null, run: 0, running: Promise.resolve(), seed: 1 };

function status(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

function describe(model, tok) {
  const params = model.getParams().length;
  const s = model.spec.stack;
  const trained = model.extra.trainedOn ? `, trained on ${model.extra.trainedOn}` : '';
  return `${s.layers}×${s.cell.toUpperCase()} ${s.hiddenSize} · ${tok.vocabSize} characters · ${fmt(params)} parameters${trained}`;
}

function use(model, name) {
  const tok = tokenizerOf(model);
  if (!tok) throw new Error('this model has no tokenizer in its config (extra.tokenizer); the page needs one to turn text into ids');
  if (state.model && state.model !== state.pretrained && state.model !== model) state.model.dispose();
  Object.assign(state, { model, tok, name });
  status(`model: ${name} — ${describe(model, tok)}`);
}

// ---- generation: streams tokens into the page as they are sampled ----------------------

const controls = ['temperature', 'top-k', 'top-p', 'length', 'epochs', 'hidden'];
function showControls() {
  $('temperature-out').value = Number($('temperature').value).toFixed(2);
  $('top-k-out').value = $('top-k').value === '0' ? 'off' : $('top-k').value;
  $('top-p-out').value = $('top-p').value === '1' ? 'off' : Number($('top-p').value).toFixed(2);
  $('length-out').value = $('length').value;
  $('epochs-out').value = $('epochs').value;
  $('hidden-out').value = $('hidden').value;
}

/** Start a new generation; the one running stops at its next token. */
function generate() {
  const run = ++state.run;
  const previous = state.running;
  state.running = previous.then(() => sample(run)).catch((e) => {
    out.classList.remove('running');
    $('gen-info').textContent = '';
    out.textContent = `error: ${e.message}`;
    out.dataset.state = 'error';
  });
  return state.running;
}

async function sample(run) {
  if (run !== state.run || !state.model) return;
  const { model, tok } = state;
  const prime = $('prime').value;
  let ids;
  try {
    ids = tok.encode(prime.length > 0 ? prime : ' ');
  } catch (e) {
    out.textContent = `${e.message.replace(/^.*?: /, '')} — this model only knows the characters of its training text.`;
    out.dataset.state = 'done';
    return;
  }
  out.dataset.state = 'running';
  out.textContent = '';
  const head = document.createElement('b');
  head.textContent = prime;
  const tail = document.createTextNode('');
  out.append(head, tail);
  out.classList.add('running');
  const options = {
    maxLength: Number($('length').value),
    temperature: Number($('temperature').value),
    topK: Number($('top-k').value),
    topP: Number($('top-p').value),
    seed: state.seed,
  };
  // Paint the cleared output first: sampling starts in a task of its own.
  await frame();
  if (run !== state.run) return;
  const session = model.createSession({ batch: 1 });
  const t0 = performance.now();
  let n = 0;
  try {
    await session.prime([ids]);
    let pending = '';
    let shown = t0; // the first chunk shows (and yields) 16 ms after the start, prime included
    for await (const [token] of session.sample(options)) {
      pending += tok.decode([token]);
      n++;
      if (performance.now() - shown > 16) {
        tail.data += pending;
        pending = '';
        await frame(); // let the page paint and take keystrokes
        shown = performance.now();
        if (run !== state.run) return;
      }
    }
    tail.data += pending;
  } finally {
    session.dispose();
    if (run === state.run) out.classList.remove('running');
  }
  const ms = performance.now() - t0;
  $('gen-info').textContent = `${fmt(n)} characters in ${ms.toFixed(0)} ms (${fmt(Math.round((n / ms) * 1000))}/s, seed ${options.seed})`;
  out.dataset.state = 'done';
}

let typing = 0;
$('prime').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(generate, 150);
});
for (const id of ['temperature', 'top-k', 'top-p', 'length']) $(id).addEventListener('change', generate);
for (const id of controls) $(id).addEventListener('input', showControls);
$('again').addEventListener('click', () => {
  state.seed = (state.seed * 1103515245 + 12345) % 2147483647 || 1;
  generate();
});

// ---- training in the page ------------------------------------------------------------------

$('corpus').value = `Twinkle, twinkle, little star,
How I wonder what you are!
Up above the world so high,
Like a diamond in the sky.

When the blazing sun is gone,
When he nothing shines upon,
Then you show your little light,
Twinkle, twinkle, all the night.

Then the traveller in the dark
Thanks you for your tiny spark;
He could not see which way to go,
If you did not twinkle so.

In the dark blue sky you keep,
And often through my curtains peep,
For you never shut your eye
Till the sun is in the sky.`;

let stopper = null;
const losses = [];

function drawChart() {
  const canvas = $('chart');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr) Object.assign(canvas, { width: w * dpr, height: h * dpr });
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#6b7280';
  if (losses.length < 2) {
    g.fillText('loss per step appears here while training', 10, h / 2 + 4);
    return;
  }
  const max = Math.max(...losses), min = Math.min(...losses, 0);
  const pad = { l: 34, r: 8, t: 10, b: 16 };
  const x = (i) => pad.l + (i / (losses.length - 1)) * (w - pad.l - pad.r);
  const y = (v) => pad.t + (1 - (v - min) / (max - min || 1)) * (h - pad.t - pad.b);
  g.strokeStyle = '#e4e2dc';
  g.beginPath();
  for (const v of [min, (min + max) / 2, max]) {
    g.moveTo(pad.l, y(v));
    g.lineTo(w - pad.r, y(v));
    g.fillText(v.toFixed(1), 4, y(v) + 4);
  }
  g.stroke();
  g.fillText(`step ${losses.length}`, w - pad.r - 52, h - 3);
  g.strokeStyle = '#1f6feb';
  g.lineWidth = 1.5;
  g.beginPath();
  losses.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
  g.stroke();
}

async function train() {
  const text = $('corpus').value;
  if ([...text].length < 100) {
    $('loss').textContent = 'paste at least 100 characters';
    return;
  }
  const tok = CharTokenizer.fromText(text);
  const ids = tok.encode(text);
  const data = nextTokenDataset(ids, 32, 8); // overlapping windows: more sequences from a short text
  const model = await createModel({
    input: { kind: 'embedding', vocab: tok.vocabSize, dim: 16 },
    cell: 'gru',
    hiddenSize: Number($('hidden').value),
    outputs: tok.vocabSize,
    init: { seed: 1 },
  });
  model.extra = { tokenizer: tok.toJSON(), trainedOn: 'text pasted into the page' };
  losses.length = 0;
  stopper = new AbortController();
  $('train-start').disabled = true;
  $('train-stop').disabled = false;
  document.body.dataset.training = 'running';
  let yielded = performance.now();
  let stopped = false;
  try {
    await model.fit(data, {
      epochs: Number($('epochs').value),
      batchSize: 16,
      optimizer: { name: 'adam', lr: 0.01 },
      clip: { maxNorm: 1 },
      signal: stopper.signal,
      onProgress: async (p) => {
        losses.push(p.loss);
        $('loss').textContent = `epoch ${p.epoch}/${p.epochs} · step ${p.step} · loss ${p.loss.toFixed(3)} (${(p.loss / Math.LN2).toFixed(2)} bits/char) · ${fmt(Math.round(p.tokensPerSecond))} chars/s`;
        if (performance.now() - yielded > 30) {
          drawChart();
          await frame(); // fit awaits this: the page paints between steps
          yielded = performance.now();
        }
      },
    });
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    stopped = true; // the model keeps what it learned so far
  } finally {
    $('train-start').disabled = false;
    $('train-stop').disabled = true;
  }
  drawChart();
  const last = losses[losses.length - 1];
  // The curve's ends, for whoever checks that it fell (the page's test).
  Object.assign($('loss').dataset, { first: String(losses[0]), last: String(last) });
  $('loss').textContent = `${stopped ? 'stopped' : 'done'} after ${losses.length} steps · loss ${last.toFixed(3)} (${(last / Math.LN2).toFixed(2)} bits/char)`;
  use(model, 'trained-in-page');
  const first = [...text].slice(0, 8).join('');
  $('prime').value = first;
  document.body.dataset.training = 'done';
  await generate();
}

$('train-start').addEventListener('click', () => train().catch((e) => ($('loss').textContent = `error: ${e.message}`)));
$('train-stop').addEventListener('click', () => stopper?.abort());

// ---- model files ---------------------------------------------------------------------------

$('download').addEventListener('click', () => {
  const blob = modelToBlob(state.model); // model.safetensors with config.json inside
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: `${state.name}.rnnkit.safetensors` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  $('file-info').textContent = `${fmt(blob.size)} bytes`;
});

$('open').addEventListener('change', async (event) => {
  const files = event.target.files;
  if (!files.length) return;
  try {
    const model = await loadModel(files); // one bundle, or config.json + model.safetensors
    use(model, files.length === 1 ? files[0].name.replace(/(\.rnnkit)?\.safetensors$/, '') : 'opened');
    $('file-info').textContent = `opened ${[...files].map((f) => f.name).join(', ')}`;
    await generate();
  } catch (e) {
    $('file-info').textContent = `cannot open: ${e.message}`;
  }
  event.target.value = '';
});

$('reset').addEventListener('click', () => {
  use(state.pretrained, 'moby-dick');
  $('prime').value = 'Call me ';
  generate();
});

// ---- start ---------------------------------------------------------------------------------

try {
  showControls();
  drawChart();
  const info = await init();
  // rnnkit-threads.wasm where the page is cross-origin isolated (serve.mjs sends COOP/COEP).
  $('backend').textContent = `backend ${info.backend} (${info.isa}), ${info.threads} thread${info.threads === 1 ? '' : 's'}${crossOriginIsolated ? '' : ' (not cross-origin isolated)'}`;
  // The directory `rnnkit train --out examples/web/model` writes: config.json + model.safetensors.
  state.pretrained = await loadModel(new URL('model/', import.meta.url));
  use(state.pretrained, 'moby-dick');
  await generate();
  document.body.dataset.status = 'ready';
} catch (e) {
  status(`error: ${e.message}`, true);
  document.body.dataset.status = 'error';
}
