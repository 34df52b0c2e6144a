import AreoCodecs
import AreoTestSupport
import Foundation
import Testing

/// Large 8-bit PNGs are deflated in parallel strips; libpng and Python's zlib must read them.
@Suite struct ParallelPNGTests {
    static func image(width: Int, height: Int, channels: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<width * height * channels).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Smooth gradients with some noise, like a stretched image.
            let x = (i / channels) % width, y = (i / channels) / width
            return UInt8(truncatingIfNeeded: x / 9 + y / 7 + Int(state >> 61))
        }
    }

    @Test(arguments: [(PNG.Layout.rgb8, 3), (.gray8, 1)])
    func largeImagesRoundTripThroughLibpng(layout: PNG.Layout, channels: Int) throws {
        let (width, height) = (2311, 1907)  // over 4 MP: the parallel path
        let pixels = Self.image(width: width, height: height, channels: channels)
        let png = try PNG.encode(pixels, width: width, height: height, layout: layout)
        #expect(png.count < pixels.count)  // it compresses
        let decoded = try PNG.decode(png, as: layout)
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.pixels == pixels)

        try Self.checkWithPython(png, expected: pixels, bytesPerPixel: channels)
    }

    @Test func threePlanesEncodeAsTheirInterleavedImage() throws {
        let (width, height) = (2311, 1907)
        let pixels = Self.image(width: width, height: height, channels: 3)
        let planes = (0..<3).map { c in stride(from: c, to: pixels.count, by: 3).map { pixels[$0] } }
        let png = try PNG.encode(planes: planes, width: width, height: height)
        #expect(try PNG.decode(png, as: .rgb8).pixels == pixels)
        try Self.checkWithPython(png, expected: pixels, bytesPerPixel: 3)
    }

    @Test func large16BitImagesRoundTripThroughLibpng() throws {
        let (width, height) = (2311, 1907)
        let bytes = Self.image(width: width, height: height, channels: 2)
        let samples = (0..<width * height).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        let png = try PNG.encode(gray16: samples, width: width, height: height)
        let decoded = try PNG.decode(png, as: .gray16)
        #expect(decoded.width == width && decoded.height == height)
        let read = decoded.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        #expect(read == samples)
        // PNG stores 16-bit samples most significant octet first.
        try Self.checkWithPython(png, expected: samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }, bytesPerPixel: 2, chunks: ["gAMA", "cHRM"])
    }

    /// An independent reader: Python's zlib inflates the IDAT stream (checking its Adler-32 and
    /// every chunk's CRC), undoes the row filters and compares the pixels with `expected`.
    static func checkWithPython(_ png: [UInt8], expected: [UInt8], bytesPerPixel: Int, chunks: [String] = []) throws {
        let file = URL(fileURLWithPath: "/tmp/areo-parallel-\(UUID().uuidString.prefix(8)).png")
        let reference = file.appendingPathExtension("raw")
        defer {
            try? FileManager.default.removeItem(at: file)
            try? FileManager.default.removeItem(at: reference)
        }
        try Data(png).write(to: file)
        try Data(expected).write(to: reference)
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat, kinds = 8, b'', []
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0], kind
                kinds.append(kind.decode())
                if kind == b'IHDR': width, height = struct.unpack('>II', body[:8])
                if kind == b'IDAT': idat += body
                pos += 12 + n
            raw, bpp = zlib.decompress(idat), int(sys.argv[3])
            stride = width * bpp
            # Up filter undone bytewise modulo 256 on whole rows as integers (SWAR).
            low, high = int.from_bytes(b'\\x7f' * stride, 'big'), int.from_bytes(b'\\x80' * stride, 'big')
            rows, above = [], 0
            for y in range(height):
                kind, row = raw[y * (stride + 1)], int.from_bytes(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)], 'big')
                assert kind in (0, 2), kind
                if kind == 2: row = ((row & low) + (above & low)) ^ ((row ^ above) & high)
                rows.append(row.to_bytes(stride, 'big'))
                above = row
            assert b''.join(rows) == open(sys.argv[2], 'rb').read(), 'pixels differ'
            print(' '.join(sorted(set(kinds))))
            """
        let (status, output) = try TestProcess.run(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, file.path, reference.path, String(bytesPerPixel)], mergeErrors: false)
        #expect(status == 0, "\(output)")
        let kinds = Set(output.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(kinds.isSuperset(of: ["IHDR", "IDAT", "IEND"] + chunks))
    }
}
