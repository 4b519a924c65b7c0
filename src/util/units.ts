// go-units compatible human-readable durations and sizes (facts from docker/go-units).

export { humanDuration } from './humanize.js';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's %.<p>g formatting. */
export function formatG(v: number, p: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  let s = v.toPrecision(p);
  const exp = Math.floor(Math.log10(Math.abs(Number(s))));
  if (exp < -4 || exp >= p) {
    // exponent form, Go style: mantissa without trailing zeros, e+XX with at least two digits
    let [m, e] = v.toExponential(p - 1).split('e');
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    const sign = e[0] === '-' ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  if (s.includes('e')) s = Number(s).toString();
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function customSize(size: number, base: number, abbrs: string[], precision: number): string {
  let i = 0;
  const limit = abbrs.length - 1;
  while (size >= base && i < limit) {
    size /= base;
    i++;
  }
  return formatG(size, precision) + abbrs[i];
}

/** HumanSizeWithPrecision: decimal units ("4.26MB", "1.2kB"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  return customSize(size, 1000, DECIMAL, precision);
}

/** HumanSize: decimal units with 4 significant digits. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** BytesSize: binary units with 4 significant digits ("1.944GiB"). */
export function bytesSize(size: number): string {
  return customSize(size, 1024, BINARY, 4);
}
