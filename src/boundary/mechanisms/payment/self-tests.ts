// Known-answer tests for the payment primitives, run with the mechanism self-tests before service
// (module/core.ts runAllSelfTests); any failure latches the error state. Each answer is a published
// value from the shared payment vectors (source named per test); a test throws on a wrong answer.

import { loadSymmetricKey } from '../../keytypes/symmetric.js';
import { SecretBytes } from '../../secret.js';
import { cmacTag } from '../cmac.js';
import { retailMac } from '../iso9797-mac.js';
import { TDES_ONLY } from './block.js';
import { cvv } from './card-verification.js';
import { checkValue } from './check-value.js';
import { parseDecimalisationTable } from './decimalisation.js';
import { aesWorkingKey } from './dukpt-aes.js';
import { tdesWorkingKey } from './dukpt-tdes.js';
import { applicationCryptogram, iccMasterKeyA, sessionKeyCommon } from './emv.js';
import { ibm3624Offset } from './ibm3624.js';
import { lengthPrefixed, macAlg1 } from './iso9797-alg1.js';
import { buildPinBlock, parsePinBlock } from './pin-block.js';
import { visaPvv } from './visa-pvv.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const digitsOf = (d: string): SecretBytes => SecretBytes.from(Uint8Array.from([...d].map(Number)));
const K = '0123456789ABCDEFFEDCBA9876543210';

function expect(got: Uint8Array | string, want: string): void {
  const g = typeof got === 'string' ? got : Buffer.from(got).toString('hex').toUpperCase();
  if (g !== want) throw new Error('known answer mismatch');
}

export interface PaymentSelfTest {
  /** The name reported in SelfTestResult.failed and accepted by forceSelfTestFailure. */
  name: string;
  run(): void;
}

export const PAYMENT_SELF_TESTS: readonly PaymentSelfTest[] = [
  {
    name: 'PAYMENT-PIN-BLOCK', // ISO 9564-1 format 0, encode and parse (shared vectors pin_block_iso0_encode:0)
    run() {
      const block = buildPinBlock('ISO0', digitsOf('123456789012'), '5555555551234567');
      expect(block, '0C1261032D8226A9');
      const pin = parsePinBlock('ISO0', block, '5555555551234567');
      expect([...pin.insecureBytes()].join(''), '123456789012');
      pin.destroy();
    },
  },
  {
    name: 'PAYMENT-KCV', // TDES key check value (kcv_tdes:0)
    run: () => expect(checkValue(loadSymmetricKey('des2', H('3F419E1CB7079442AA37474C2EFBF8B8')), 3), '57C409'),
  },
  {
    name: 'PAYMENT-IBM3624', // IBM 3624 offset (ibm3624_offset_generate:0)
    run: () => expect(ibm3624Offset(loadSymmetricKey('des2', H(K)), parseDecimalisationTable('1234567890123456'), '1122334455667788', digitsOf('5635')).join(''), '1111'),
  },
  {
    name: 'PAYMENT-VISA-PVV', // Visa PVV (visa_pvv:0)
    run: () => expect(visaPvv(loadSymmetricKey('des2', H(K)), '1122334455667788', 1, digitsOf('4524')).join(''), '8523'),
  },
  {
    name: 'PAYMENT-CVV', // Visa CVV = Mastercard CVC algorithm (visa_cvv:0)
    run: () => expect(cvv(loadSymmetricKey('des2', H(K)), '4123456789012345', '8701', '101'), '561'),
  },
  {
    name: 'PAYMENT-EMV', // ICC MK option A → common session key → ARQC (emv_arqc:0)
    run() {
      const mk = iccMasterKeyA(loadSymmetricKey('des2', H(K)), '12345678901234567', '45');
      const sk = sessionKeyCommon(mk, '1234567890123456');
      expect(applicationCryptogram(sk, H('0123456789ABCDEF0123456789ABCDEF'), 'emv'), '19C1FBC83EBDC0D5');
    },
  },
  {
    name: 'PAYMENT-ISO9797-MAC', // ISO/IEC 9797-1 alg 1 (iso9797_mac_alg1:0), alg 3 padding 3 (iso9797_mac_alg3:0), TDES-CMAC (tdes_cmac:1)
    run() {
      expect(macAlg1(loadSymmetricKey('des2', H('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB')), H('68656C6C6F20776F726C64'), 1), '68D9038F23360DF3');
      expect(retailMac(loadSymmetricKey('des2', H(K)), lengthPrefixed(H('4E6F77206973207468652074696D6520666F7220616C6C20')), 1), 'AB059463D7A7D170');
      expect(cmacTag(loadSymmetricKey('des3', H('0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123')), TDES_ONLY, 8, H('6BC1BEE22E409F96E93D7E117393172A')), '30239CF1F52E6609');
    },
  },
  {
    name: 'PAYMENT-DUKPT-TDES', // X9.24-1:2009 A.4 PIN key for KSN …E00008 (dukpt_tdes:0)
    run() {
      const k = tdesWorkingKey(loadSymmetricKey('des2', H(K)), 'FFFF9876543210E00008', 'pin');
      expect(k.secret?.insecureBytes() ?? '', '27F66D5244FF621EAA6F6120EDEB427F');
      k.secret?.destroy();
    },
  },
  {
    name: 'PAYMENT-DUKPT-AES', // X9.24-3:2017 supplement: AES-128 PIN key for KSN …00000001 (dukpt_aes:0)
    run() {
      const k = aesWorkingKey(loadSymmetricKey('aes', H('FEDCBA9876543210F1F1F1F1F1F1F1F1')), '123456789012345600000001', 'pin', 'aes128');
      expect(k.secret?.insecureBytes() ?? '', 'AF8CB133A78F8DC2D1359F18527593FB');
      k.secret?.destroy();
    },
  },
];
