/**
 * Image references, parsed and normalized as Docker does (github.com/distribution/reference):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain '/'] remote-name
 *   domain     := host [':' port]         host: domain-name | IPv4 | '[' IPv6 ']'
 *   path-comp  := [a-z0-9]+ (separator [a-z0-9]+)*     separator: [._] | __ | -+
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ':' hex{32,}
 *
 * Normalization: no domain (first component without '.' or ':' and not 'localhost', or containing
 * uppercase) → docker.io; docker.io with a single path component → library/<name>;
 * index.docker.io → docker.io.
 */
import { sha256Digest } from '../util/digest.js';
import { InvalidParameterError } from './errors.js';

export { sha256Digest };

/** A parsed, normalized image reference (docker.io/library/busybox:latest). */
export interface Reference {
  /** Registry host, normalized: 'docker.io' for Docker Hub. */
  domain: string;
  /** Repository path inside the registry: 'library/busybox'. */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
export const NAME_TOTAL_LENGTH_MAX = 255;

// ---- grammar (written from the EBNF above) ----
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const SHORT_IDENTIFIER_RE = /^[a-f0-9]{6,64}$/;
const FULL_ID_RE = /^(?:sha256:)?[a-f0-9]{64}$/;

function invalid(msg: string): InvalidParameterError {
  return new InvalidParameterError(msg);
}

/** Validates a digest as opencontainers/go-digest does; returns it or throws. */
export function validateDigest(d: string): string {
  const i = d.indexOf(':');
  if (i < 1 || i + 1 === d.length) throw invalid('invalid checksum digest format');
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/.test(alg)) throw invalid('invalid checksum digest format');
  const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  const want = lengths[alg];
  if (want === undefined) throw invalid('unsupported digest algorithm');
  if (!/^[a-f0-9]+$/.test(hex)) throw invalid('invalid checksum digest format');
  if (hex.length !== want) throw invalid('invalid checksum digest length');
  return d;
}

export function isDigest(d: string): boolean {
  try { validateDigest(d); return true; } catch { return false; }
}

export function isSha256Digest(d: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(d);
}

/** The hex part of 'sha256:<hex>' (or the input when it is bare hex). Throws on other algorithms. */
export function digestHex(d: string): string {
  if (d.startsWith('sha256:')) {
    const hex = d.slice(7);
    if (!IDENTIFIER_RE.test(hex)) throw invalid(`invalid digest ${JSON.stringify(d)}`);
    return hex;
  }
  if (IDENTIFIER_RE.test(d)) return d;
  throw invalid(`invalid digest ${JSON.stringify(d)}`);
}

/** 64 hex characters, with or without 'sha256:'. */
export function isFullId(s: string): boolean {
  return FULL_ID_RE.test(s);
}

/** A possible ID prefix (a Docker "short identifier": 6-64 lowercase hex), optionally 'sha256:'-prefixed. */
export function isIdPrefix(s: string): boolean {
  const h = s.startsWith('sha256:') ? s.slice(7) : s;
  return h.length > 0 && /^[a-f0-9]+$/.test(h) && (s.startsWith('sha256:') || SHORT_IDENTIFIER_RE.test(h));
}

/** 12-character short form of an ID ('sha256:abc…' or 'abc…'), as stringid.TruncateID. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const h = i >= 0 ? id.slice(i + 1) : id;
  return h.slice(0, 12);
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a non-normalized reference string strictly (distribution/reference.Parse).
 * The name part is split into domain/path only if it has a domain-looking first component.
 */
export function parse(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw invalid('repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const nm = ANCHORED_NAME_RE.exec(name)!;
  const ref: Reference = { domain: nm[1] ?? '', path: nm[2]! };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = validateDigest(m[3]);
  return ref;
}

/**
 * Parses and normalizes a reference as Docker does for user input (ParseNormalizedNamed):
 * 'busybox' → {domain:'docker.io', path:'library/busybox'} (no tag added; see withDefaultTag).
 */
export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const ref = parse(`${domain}/${remainder}`);
  if (ref.domain === '') {
    // cannot happen: domain is always present after splitDockerDomain, but keep the type honest
    ref.domain = DEFAULT_DOMAIN;
  }
  return ref;
}

/** Adds ':latest' when the reference has neither tag nor digest (TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/**
 * Parses user input into the reference to pull/look up (ParseDockerRef): normalized, ':latest'
 * added when there is no tag and no digest; when both tag and digest are given the tag is dropped.
 */
export function parseDockerRef(s: string): Reference {
  const ref = parseNormalizedNamed(s);
  if (ref.digest !== undefined && ref.tag !== undefined) {
    const { tag: _t, ...rest } = ref;
    return rest;
  }
  return withDefaultTag(ref);
}


/** 'docker.io/library/busybox' */
export function fullName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** 'docker.io/library/busybox:latest@sha256:…' */
export function referenceString(ref: Reference): string {
  let s = fullName(ref);
  if (ref.tag !== undefined) s += ':' + ref.tag;
  if (ref.digest !== undefined) s += '@' + ref.digest;
  return s;
}

/** 'busybox' for docker.io/library/busybox; 'user/app' for docker.io/user/app; others unchanged. */
export function familiarName(ref: Reference): string {
  if (ref.domain === DEFAULT_DOMAIN) {
    if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
      const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
      if (!rest.includes('/')) return rest;
    }
    return ref.path;
  }
  return fullName(ref);
}

/** 'busybox:latest', 'user/app@sha256:…', 'localhost:5000/x:1'. */
export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += ':' + ref.tag;
  if (ref.digest !== undefined) s += '@' + ref.digest;
  return s;
}

/** Familiar form of a full reference string ('docker.io/library/busybox:latest' → 'busybox:latest'). */
export function familiarizeString(full: string): string {
  return familiarString(parseNormalizedNamed(full));
}




/* ---- additions for the CLI ---- */

/**
 * Reads user input that may name an image by ID (distribution/reference.ParseAnyReference):
 * 64 hex characters or a digest become a digest-only reference (empty domain and path);
 * anything else is parsed and normalized as a name (no default tag added).
 */
export function parseAnyReference(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) return { domain: '', path: '', digest: `sha256:${s}` };
  if (isDigest(s)) return { domain: '', path: '', digest: s };
  return parseNormalizedNamed(s);
}
