// The web page's icons, drawn in code at build time (no network, no image library): one shape
// function in unit coordinates gives the SVG and PNGs at 180 (apple-touch), 192 and 512, plus a
// maskable 512 whose drawing stays inside the 80% safe zone. PNGs are RGBA rows, 4x4
// supersampled, deflated and framed with node:zlib (crc32 needs Node 20.15 or later).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

type Rgb = readonly [number, number, number];
const BG: Rgb = [0x0b, 0x0b, 0x0c];
const RING: Rgb = [0x5a, 0xa9, 0xff];
const DOT: Rgb = [0xff, 0xb0, 0x20];

/** A rounded dark tile, a ring (an agent) and an amber dot (one waits for you). */
function colourAt(x: number, y: number, maskable: boolean): Rgb | null {
  const r = maskable ? 0 : 0.2;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  if (!maskable && Math.hypot(x - cx, y - cy) > r) return null;
  const s = maskable ? 0.8 : 1;
  const d = Math.hypot((x - 0.5) / s, (y - 0.5) / s);
  if (d > 0.22 && d < 0.32) return RING;
  if (Math.hypot((x - 0.5) / s - 0.2, (y - 0.5) / s + 0.2) < 0.08) return DOT;
  return BG;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

export function iconPng(size: number, maskable: boolean): Buffer {
  const SS = 4;
  const stride = size * 4 + 1;
  const raw = Buffer.alloc(size * stride);
  for (let y = 0; y < size; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let covered = 0;
      for (let j = 0; j < SS; j++) {
        for (let i = 0; i < SS; i++) {
          const c = colourAt((x + (i + 0.5) / SS) / size, (y + (j + 0.5) / SS) / size, maskable);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          covered += 1;
        }
      }
      const o = y * stride + 1 + x * 4;
      raw[o] = covered ? r / covered : 0;
      raw[o + 1] = covered ? g / covered : 0;
      raw[o + 2] = covered ? b / covered : 0;
      raw[o + 3] = Math.round((255 * covered) / (SS * SS));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" rx="20" fill="#0b0b0c"/><circle cx="50" cy="50" r="27" fill="none" stroke="#5aa9ff" stroke-width="10"/><circle cx="70" cy="30" r="8" fill="#ffb020"/></svg>\n`;

export interface Icon {
  file: string;
  size: number;
  maskable: boolean;
}

/** Writes icon.svg and the PNGs into dir; returns the PNGs for the manifest. */
export function writeIcons(dir: string): Icon[] {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'icon.svg'), SVG);
  const icons: Icon[] = [
    { file: 'icon-180.png', size: 180, maskable: false },
    { file: 'icon-192.png', size: 192, maskable: false },
    { file: 'icon-512.png', size: 512, maskable: false },
    { file: 'icon-512-maskable.png', size: 512, maskable: true },
  ];
  for (const i of icons) writeFileSync(join(dir, i.file), iconPng(i.size, i.maskable));
  return icons;
}
