/** Check-digit and format validators for PRC identifiers. Each takes the bare identifier. */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** PRC resident ID (GB 11643): 18 characters, valid region digit and birth date, ISO 7064 MOD 11-2. */
export function isResidentId(id: string, now = new Date()): boolean {
  if (!/^[1-9]\d{16}[\dXx]$/.test(id)) return false;
  if (!'12345678'.includes(id[0]!)) return false;
  const y = Number(id.slice(6, 10));
  if (
    y < 1900 ||
    y > now.getUTCFullYear() ||
    !validDate(y, Number(id.slice(10, 12)), Number(id.slice(12, 14)))
  )
    return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

/** Mainland mobile number: 11 digits, 1 then 3–9. */
export function isMobile(n: string): boolean {
  return /^1[3-9]\d{9}$/.test(n);
}

/** Luhn (mod 10) check. */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Bank card: 16–19 digits, an issuer prefix in use in China (UnionPay 62, Visa, Mastercard, JCB, Amex), Luhn. */
export function isBankCard(n: string): boolean {
  return /^(?:62|4|5[1-5]|2[2-7]|35|3[47])\d{14,17}$/.test(n) && n.length >= 16 && n.length <= 19 && luhn(n);
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Unified social credit code (GB 32100-2015): 18 characters, mod-31 check character. */
export function isUnifiedSocialCreditCode(code: string): boolean {
  const c = code.toUpperCase();
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(c)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(c[i]!) * USCC_WEIGHTS[i]!;
  const check = (31 - (sum % 31)) % 31;
  return USCC_CHARS[check] === c[17];
}

/** PRC passport: E or G plus 8 digits, or E plus a letter (not I/O) plus 7 digits (2012+ e-passports). */
export function isPassport(p: string): boolean {
  return /^(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})$/i.test(p);
}

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

/** Licence plate: province, issuing-office letter, then 5 (ordinary) or 6 (new-energy D/F) characters. */
export function isLicencePlate(plate: string): boolean {
  const p = plate.replace(/[·•\s-]/g, '').toUpperCase();
  if (!PROVINCES.includes(p[0] ?? '?')) return false;
  const rest = p.slice(1);
  if (/^[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]$/.test(rest)) return /\d/.test(rest);
  return /^[A-HJ-NP-Z](?:[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])$/.test(rest);
}

/** E-mail address (pragmatic: local@domain.tld). */
export function isEmail(e: string): boolean {
  return /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(e);
}
