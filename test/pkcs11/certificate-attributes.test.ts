// Certificate objects over PKCS#11 (found by Java's KeyStore and pkcs11-tool --write-object):
// CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER are accepted only as
// true copies of the DER, and read back from it; CKA_VALUE of a certificate is its DER.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HsmError, type ObjectInfo } from '../../src/boundary/api.js';
import { readAttribute, toTemplate } from '../../src/frontends/pkcs11/attributes.js';
import { certificateFields } from '../../src/frontends/pkcs11/certificate-fields.js';
import { CKA, CKO } from '../../src/frontends/pkcs11/constants.js';
import { OPENSSL, p11user, PKCS11_TOOL, runEnv } from './client-support.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool } from './p11-fixture.js';
import { bytesAttr, ulongAttr } from './rpc-client.js';

let f: P11Fixture;
let der: Buffer;
before(async () => {
  f = await p11Fixture();
  const r = await runEnv(f, OPENSSL, ['req', '-new', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(f.dir, 'k.pem'), '-subj', '/CN=subject here/O=Coffer', '-days', '2', '-outform', 'DER', '-out', join(f.dir, 'c.der')], { OPENSSL_CONF: '/dev/null' });
  assert.equal(r.code, 0, r.stderr);
  der = readFileSync(join(f.dir, 'c.der'));
});
after(async () => {
  await f.close();
});

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof HsmError ? e.code : String(e);
  }
  return 'no error';
};

test('certificateFields reads serial, issuer and subject out of the DER (checked against node X509Certificate) and refuses a truncated certificate', () => {
  const c = certificateFields(der);
  const x = new X509Certificate(der);
  // INTEGER TLV: tag 02, short length, then the big-endian value (a leading 00 only when the top bit is set).
  assert.equal(c.serialNumber[0], 0x02);
  assert.equal(Buffer.from(c.serialNumber.subarray(2)).toString('hex').replace(/^00/, '').toUpperCase(), x.serialNumber.replace(/^00/, ''));
  assert.ok(Buffer.from(c.subject).includes(Buffer.from('subject here')));
  assert.deepEqual(c.issuer, c.subject, 'self-signed');
  assert.equal(c.subject[0], 0x30);
  assert.equal(code(() => certificateFields(der.subarray(0, der.length - 1))), 'ATTRIBUTE_VALUE_INVALID');
  assert.equal(code(() => certificateFields(Buffer.from('3003020101', 'hex'))), 'ATTRIBUTE_VALUE_INVALID');
});

test('toTemplate: the copies must match the DER, only X.509 is accepted, and certificate attributes outside a certificate are refused', () => {
  const c = certificateFields(der);
  const base = [ulongAttr(CKA.CLASS, CKO.CERTIFICATE), ulongAttr(CKA.CERTIFICATE_TYPE, 0), bytesAttr(CKA.VALUE, der)];
  const tpl = toTemplate([...base, bytesAttr(CKA.SUBJECT, c.subject), bytesAttr(CKA.ISSUER, c.issuer), bytesAttr(CKA.SERIAL_NUMBER, c.serialNumber)]);
  assert.equal(tpl.class, 'certificate');
  assert.deepEqual(Buffer.from(tpl.certificate ?? []), der);
  const other = Buffer.from(c.subject);
  other[other.length - 1] ^= 1;
  assert.equal(code(() => toTemplate([...base, bytesAttr(CKA.SUBJECT, other)])), 'TEMPLATE_INCONSISTENT');
  assert.equal(code(() => toTemplate([...base, bytesAttr(CKA.SERIAL_NUMBER, Buffer.from('020101', 'hex'))])), 'TEMPLATE_INCONSISTENT');
  assert.equal(code(() => toTemplate([ulongAttr(CKA.CLASS, CKO.CERTIFICATE), ulongAttr(CKA.CERTIFICATE_TYPE, 1), bytesAttr(CKA.VALUE, der)])), 'ATTRIBUTE_VALUE_INVALID');
  assert.equal(code(() => toTemplate([ulongAttr(CKA.CLASS, CKO.PRIVATE_KEY), bytesAttr(CKA.ISSUER, c.issuer)])), 'ATTRIBUTE_TYPE_INVALID');
  assert.equal(code(() => toTemplate([bytesAttr(CKA.SUBJECT, c.subject)])), 'ATTRIBUTE_TYPE_INVALID', 'alone (a find filter) it is compared on read values');
});

test('readAttribute of a certificate: VALUE is the DER, SUBJECT/ISSUER/SERIAL_NUMBER its fields, CERTIFICATE_TYPE is CKC_X_509', () => {
  const c = certificateFields(der);
  const info = { class: 'certificate', uid: 'u', label: 'c', id: new Uint8Array(0) } as unknown as ObjectInfo;
  const bytes = (type: number) => {
    const r = readAttribute(type, info, { certificate: c });
    assert.ok(typeof r === 'object' && r.value.kind === 'bytes', `0x${type.toString(16)}`);
    return Buffer.from((r.value as { v: Uint8Array }).v);
  };
  assert.deepEqual(bytes(CKA.VALUE), der);
  assert.deepEqual(bytes(CKA.SUBJECT), Buffer.from(c.subject));
  assert.deepEqual(bytes(CKA.ISSUER), Buffer.from(c.issuer));
  assert.deepEqual(bytes(CKA.SERIAL_NUMBER), Buffer.from(c.serialNumber));
  assert.deepEqual(readAttribute(CKA.CERTIFICATE_TYPE, info, undefined), { value: { kind: 'ulong', v: 0n }, length: 8 });
  assert.equal(readAttribute(CKA.MODULUS, info, { certificate: c }), 'invalid');
});

test('pkcs11-tool --write-object a certificate, -O shows its subject and serial, --read-object gives the same DER back', async (t) => {
  if (!requireTool(P11_KIT_CLIENT, 'p11-kit-modules', t.skip.bind(t)) || !requireTool(PKCS11_TOOL, 'opensc', t.skip.bind(t))) return;
  const w = await p11user(f, '--write-object', join(f.dir, 'c.der'), '--type', 'cert', '--id', 'e1', '--label', 'cert1');
  assert.equal(w.code, 0, w.stderr);
  const list = await p11user(f, '-O', '--type', 'cert');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /Certificate Object; type = X\.509 cert/);
  assert.match(list.stdout, /subject:\s+DN: CN=subject here, O=Coffer/);
  assert.match(list.stdout, new RegExp(`serial:\\s+0*${new X509Certificate(der).serialNumber.replace(/^0+/, '')}`));
  const r = await p11user(f, '--read-object', '--type', 'cert', '--id', 'e1', '-o', join(f.dir, 'back.der'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(join(f.dir, 'back.der')), der);
});

test('Hsm.getCertificate gives a certificate object its DER and refuses any other object (OBJECT_NOT_FOUND)', async () => {
  const { hsm, user } = f.t;
  const cert = await hsm.createObject(user, { class: 'certificate', label: 'c', certificate: der });
  assert.deepEqual(Buffer.from(await hsm.getCertificate(user, cert)), der);
  const key = await hsm.generateKey(user, { template: { keyType: 'aes', valueLen: 32 } });
  await assert.rejects(hsm.getCertificate(user, key), (e: unknown) => e instanceof HsmError && e.code === 'OBJECT_NOT_FOUND');
});
