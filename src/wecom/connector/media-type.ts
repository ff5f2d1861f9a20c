/**
 * The real type of a media file from its first bytes. WeCom labels voice as "amr" although it is
 * often SILK, and file extensions come from users: neither is trusted.
 */
export function detectMediaType(head: Uint8Array): string {
  const b = Buffer.from(head.subarray(0, 16));
  const starts = (sig: number[] | string, offset = 0) => {
    const bytes = typeof sig === 'string' ? Buffer.from(sig, 'latin1') : Buffer.from(sig);
    return b.length >= offset + bytes.length && b.subarray(offset, offset + bytes.length).equals(bytes);
  };
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts('GIF87a') || starts('GIF89a')) return 'gif';
  if (starts('RIFF') && starts('WEBP', 8)) return 'webp';
  if (starts('#!AMR')) return 'amr';
  if (starts('#!SILK_V3') || starts('\x02#!SILK_V3')) return 'silk';
  if (starts('ftyp', 4)) return 'mp4';
  if (starts('%PDF-')) return 'pdf';
  if (starts([0x50, 0x4b, 0x03, 0x04])) return 'zip'; // also docx, xlsx, pptx
  if (starts([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'ole'; // doc, xls, ppt
  if (starts('ID3') || starts([0xff, 0xfb])) return 'mp3';
  return 'unknown';
}
