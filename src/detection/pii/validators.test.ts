import { describe, expect, it } from 'vitest';
import { detectPii } from './detect.js';
import {
  isBankCard,
  isLicencePlate,
  isPassport,
  isResidentId,
  isUnifiedSocialCreditCode,
  luhn,
} from './validators.js';

describe('PII validators', () => {
  it('resident ID: MOD 11-2 check digit and a real birth date', () => {
    expect(isResidentId('11010519491231002X')).toBe(true);
    expect(isResidentId('110105194912310021')).toBe(false); // wrong check digit
    expect(isResidentId('440524188001010014')).toBe(false); // born 1880
    expect(isResidentId('110105194902300025')).toBe(false); // 30 February
    expect(isResidentId('11010519491231002x')).toBe(true);
  });

  it('bank card: Luhn and issuer prefix', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(isBankCard('6222021234567890128')).toBe(luhn('6222021234567890128'));
    expect(isBankCard('6217000010001234561')).toBe(luhn('6217000010001234561'));
    expect(isBankCard('4111111111111111')).toBe(true);
    expect(isBankCard('4111111111111112')).toBe(false);
    expect(isBankCard('9111111111111111')).toBe(false);
  });

  it('unified social credit code: mod-31 check character', () => {
    expect(isUnifiedSocialCreditCode('91350100M000100Y43')).toBe(true);
    expect(isUnifiedSocialCreditCode('91350100M000100Y44')).toBe(false);
    expect(isUnifiedSocialCreditCode('91110000802100433B')).toBe(true);
  });

  it('passport and licence plate formats', () => {
    expect(isPassport('E12345678')).toBe(true);
    expect(isPassport('EA1234567')).toBe(true);
    expect(isPassport('X12345678')).toBe(false);
    expect(isLicencePlate('粤B12345')).toBe(true);
    expect(isLicencePlate('粤B·D12345')).toBe(true);
    expect(isLicencePlate('京AD12345')).toBe(true);
    expect(isLicencePlate('沪A12345F')).toBe(true);
    expect(isLicencePlate('火B12345')).toBe(false);
    expect(isLicencePlate('粤BABCDE')).toBe(false);
  });
});

describe('detectPii', () => {
  it('finds validated identifiers with their original offsets', () => {
    const text =
      '身份证11010519491231002X，手机１３８１２３４５６７８，卡号 4111 1111 1111 1111，邮箱 zhang.san@example.com';
    const kinds = detectPii(text).map((h) => [h.kind, h.matched]);
    expect(kinds).toContainEqual(['resident-id', '11010519491231002X']);
    expect(kinds).toContainEqual(['mobile', '１３８１２３４５６７８']);
    expect(kinds).toContainEqual(['bank-card', '4111 1111 1111 1111']);
    expect(kinds).toContainEqual(['email', 'zhang.san@example.com']);
  });

  it('rejects numbers glued into longer digit runs and bad check digits', () => {
    expect(detectPii('订单号 2023138123456789001', ['mobile'])).toEqual([]);
    expect(detectPii('138-1234-5678', ['mobile'])).toHaveLength(1);
    expect(detectPii('身份证110105194912310021', ['resident-id'])).toEqual([]);
    expect(detectPii('卡号4111111111111112', ['bank-card'])).toEqual([]);
  });

  it('finds credit codes, passports and plates', () => {
    expect(detectPii('统一社会信用代码91350100M000100Y43', ['uscc'])).toHaveLength(1);
    expect(detectPii('护照E12345678', ['passport'])).toHaveLength(1);
    expect(detectPii('车牌粤B·D12345停在楼下', ['licence-plate'])).toHaveLength(1);
  });
});
