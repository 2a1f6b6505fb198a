/**
 * What both entries export (src/index.ts for Node, src/web.ts for browsers): everything
 * that takes no file path — file formats as bytes, tokenizers and text tools. One list, so
 * the two entries cannot drift apart.
 */
// Files as bytes: safetensors, PyTorch weights, models (directories by URL, one-file bundles).
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './io/safetensors.js';
export type { Tensor, SafetensorsContent } from './io/safetensors.js';
export { stackFromTensors, stackToTensors } from './io/torch.js';
export type { TorchImportOptions, ImportedStack } from './io/torch.js';
export { decodeTorchRnn, encodeTorchRnn } from './web/torch-bytes.js';
export { encodeModel, decodeModel } from './io/model-bytes.js';
export type { ModelBytes, LoadedModel } from './io/model-bytes.js';
export { readModel, encodeModelBundle, decodeModelBundle, bundleFromFiles, bundleConfig, modelUrls, BUNDLE_CONFIG_KEY } from './web/model-io.js';
export type { ModelSource, ReadModelOptions } from './web/model-io.js';
export { setWasmWorker } from './backend/wasm/worker-host.js';
export { setWasmThreadWorker } from './backend/wasm/threads.js';
export type { WasmWorkerOption } from './backend/wasm/worker-host.js';
// Text: tokenizers, vocabularies, sentences, word vectors, language-model data, sampling.
export { CharTokenizer, WordTokenizer, Tokenizer, tokenizerFromJSON, tokenizerOf } from './text/tokenizer.js';
export type { TokenizerJSON, TokenizerOptions, WordTokenizerOptions, SpecialTokens, SpecialIds, DecodeOptions } from './text/tokenizer.js';
export { splitSentences, encodeSentences, DEFAULT_ABBREVIATIONS } from './text/sentences.js';
export type { SentenceOptions } from './text/sentences.js';
export { wordVectorsFor } from './text/vectors.js';
export type { WordVectors, WordVectorOptions } from './text/vectors.js';
export { HELD_OUT_SPLIT, nextTokenDataset, splitHeldOut, streamDataset } from './text/language-model.js';
export { argmax, checkSamplingOptions, pickToken } from './text/sampling.js';
export type { SamplingOptions } from './text/sampling.js';
