// Test support: the smallest valid PE32 executable that Authenticode tools accept — a DOS
// header, the PE signature and COFF header, a PE32 optional header with all 16 data
// directories (the certificate table is entry 4), and one .text section holding `xor eax,eax; ret`.

const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;

/** Builds the file; layout per the Microsoft PE/COFF specification ("PE Format"), section numbers in comments. */
export function minimalPe32(): Buffer {
  const headers = Buffer.alloc(FILE_ALIGN);
  // MS-DOS stub header: "MZ", e_lfanew at 0x3c points at the PE signature (§2).
  headers.write('MZ', 0, 'latin1');
  const peAt = 0x40;
  headers.writeUInt32LE(peAt, 0x3c);
  headers.write('PE\0\0', peAt, 'latin1');
  // COFF file header (§3.3).
  const coff = peAt + 4;
  headers.writeUInt16LE(0x14c, coff); // IMAGE_FILE_MACHINE_I386
  headers.writeUInt16LE(1, coff + 2); // NumberOfSections
  headers.writeUInt16LE(224, coff + 16); // SizeOfOptionalHeader: PE32 = 96 + 16 × 8
  headers.writeUInt16LE(0x0102, coff + 18); // EXECUTABLE_IMAGE | 32BIT_MACHINE
  // Optional header, PE32 (§3.4).
  const opt = coff + 20;
  headers.writeUInt16LE(0x10b, opt); // PE32 magic
  headers.writeUInt32LE(FILE_ALIGN, opt + 4); // SizeOfCode
  headers.writeUInt32LE(SECTION_ALIGN, opt + 16); // AddressOfEntryPoint
  headers.writeUInt32LE(SECTION_ALIGN, opt + 20); // BaseOfCode
  headers.writeUInt32LE(SECTION_ALIGN, opt + 24); // BaseOfData
  headers.writeUInt32LE(0x400000, opt + 28); // ImageBase
  headers.writeUInt32LE(SECTION_ALIGN, opt + 32); // SectionAlignment
  headers.writeUInt32LE(FILE_ALIGN, opt + 36); // FileAlignment
  headers.writeUInt16LE(4, opt + 40); // MajorOperatingSystemVersion
  headers.writeUInt16LE(4, opt + 48); // MajorSubsystemVersion
  headers.writeUInt32LE(2 * SECTION_ALIGN, opt + 56); // SizeOfImage: headers + one section
  headers.writeUInt32LE(FILE_ALIGN, opt + 60); // SizeOfHeaders
  headers.writeUInt16LE(3, opt + 68); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  headers.writeUInt32LE(0x100000, opt + 72); // SizeOfStackReserve
  headers.writeUInt32LE(0x1000, opt + 76); // SizeOfStackCommit
  headers.writeUInt32LE(0x100000, opt + 80); // SizeOfHeapReserve
  headers.writeUInt32LE(0x1000, opt + 84); // SizeOfHeapCommit
  headers.writeUInt32LE(16, opt + 92); // NumberOfRvaAndSizes; the 16 directories stay zero until signing
  // Section table (§4): .text, raw data right after the headers.
  const sec = opt + 224;
  headers.write('.text', sec, 'latin1');
  headers.writeUInt32LE(3, sec + 8); // VirtualSize
  headers.writeUInt32LE(SECTION_ALIGN, sec + 12); // VirtualAddress
  headers.writeUInt32LE(FILE_ALIGN, sec + 16); // SizeOfRawData
  headers.writeUInt32LE(FILE_ALIGN, sec + 20); // PointerToRawData
  headers.writeUInt32LE(0x60000020, sec + 36); // CODE | EXECUTE | READ
  const text = Buffer.alloc(FILE_ALIGN);
  text.set([0x31, 0xc0, 0xc3]); // xor eax, eax; ret
  return Buffer.concat([headers, text]);
}
