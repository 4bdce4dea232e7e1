// MIME parsing, once at delivery: structure with byte offsets, ENVELOPE, search fields.
export { parseStructure, shiftStructure, countLines, MAX_DEPTH } from "./structure.ts";
export { parseEnvelope, envelopeFromFields } from "./envelope.ts";
export { analyze, formatAddresses, htmlToText, parseDate, type Analysis } from "./analyze.ts";
export { parseAddressList } from "./address.ts";
export { decodeWords, decodeQP, decodeBase64, decodeTransfer } from "./decode.ts";
export { parseValueWithParams } from "./params.ts";
export { splitHeader, parseFields, parseHeaderBytes, getField, type HeaderField } from "./header.ts";
export { decodeCharset, bytesToString } from "./text.ts";
export type { MimePart, Envelope, EnvelopeAddress } from "./types.ts";
