// Minimal typings for the parts of seek-bzip 2.0.0 that seekdata drives directly.
declare module 'seek-bzip' {
  interface BitReader {
    bitOffset: number;
    hasByte: boolean;
    seek(bitPosition: number): void;
    read(bits: number): number;
  }
  interface Bzip2InputStream {
    readByte(): number;
    seek(bytePosition: number): void;
    read(buffer: Uint8Array, offset: number, length: number): number;
  }
  interface Bzip2OutputStream {
    writeByte(byte: number): void;
  }
  class Bunzip {
    constructor(input: Bzip2InputStream, output: Bzip2OutputStream);
    reader: BitReader;
    targetBlockCRC: number;
    blockCRC: unknown;
    writeCopies: number;
    _get_next_block(): boolean;
    _read_bunzip(): number;
    static Stream: new () => Bzip2InputStream & Bzip2OutputStream;
  }
  export default Bunzip;
}
declare module 'seek-bzip/lib/crc32.js' {
  class CRC32 {
    getCRC(): number;
  }
  export default CRC32;
}
