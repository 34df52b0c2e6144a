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

        // An independent reader: Python's zlib inflates the IDAT stream and checks its Adler-32.
        let file = URL(fileURLWithPath: "/tmp/areo-parallel-\(UUID().uuidString.prefix(8)).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(png).write(to: file)
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat = 8, b''
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0], kind
                if kind == b'IDAT': idat += body
                pos += 12 + n
            print(len(zlib.decompress(idat)))
            """
        let (status, output) = try TestProcess.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, file.path], mergeErrors: false)
        #expect(status == 0)
        #expect(Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) == height * (width * channels + 1))
    }
}
