import AreoCodecs
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

@Suite struct CodecTests {
    /// Every fragment of the clean sample mission, reassembled in memory.
    static func sampleFragments() throws -> [(header: FragmentHeader, payload: [UInt8])] {
        var pieces: [FragmentAssembler<Int>.Piece] = []
        for n in 1...3 {
            let bytes = [UInt8](try Data(contentsOf: TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean/pass_00\(n).dds")))
            for case .record(let r) in PassFileScanner(bytes: bytes).scan() where r.packet.apid == SpacePacket.APID.science {
                pieces.append(.init(reference: r.offset, flags: r.packet.sequenceFlags, sequenceCount: r.packet.sequenceCount,
                                    crcValid: r.packet.isCRCValid, userData: r.packet.userData))
            }
        }
        return FragmentAssembler<Int>().assemble(pieces).fragments.compactMap { f in f.header.map { ($0, Array(f.payload)) } }
    }

    @Test func everySampleFragmentDecodesToItsSampleCount() throws {
        let fragments = try Self.sampleFragments()
        #expect(fragments.count == 144)
        var byCompression: [Compression: Int] = [:]
        for (header, payload) in fragments {
            let samples = try FragmentDecoder.samples(header: header, payload: payload)
            #expect(samples.count == header.lines * header.samples)
            #expect(samples.allSatisfy { Int($0) < 1 << Int(header.bitsPerSample) })
            #expect(Set(samples).count > 10, "a real image, not a constant")
            byCompression[header.compression!, default: 0] += 1
        }
        #expect(byCompression == [.ccsds121: 48, .none: 48, .jpeg: 48])
    }

    /// ICD §4: the payload is exactly what aec_buffer_encode writes, so decoding and encoding
    /// again gives the payload back byte for byte.
    @Test func ccsdsPayloadsReencodeByteExact() throws {
        for (header, payload) in try Self.sampleFragments() where header.compression == .ccsds121 {
            let samples = try CCSDS121.decode(payload, bits: Int(header.bitsPerSample), count: header.lines * header.samples)
            #expect(try CCSDS121.encode(samples, bits: Int(header.bitsPerSample)) == payload)
        }
    }

    /// libaec's own command-line tool (Debian libaec-tools) decodes the same samples.
    @Test func ccsdsDecodingAgreesWithTheAecTool() throws {
        let aec = ["/usr/bin/aec", "/usr/local/bin/aec"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try #require(aec, "install libaec-tools (scripts/bootstrap does)")
        let fragments = try Self.sampleFragments().filter { $0.header.compression == .ccsds121 }
        for (header, payload) in fragments.prefix(6) {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("areo-aec-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let input = dir.appendingPathComponent("in.rz"), output = dir.appendingPathComponent("out.raw")
            try Data(payload).write(to: input)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["-d", "-n", String(header.bitsPerSample), "-j", "16", "-r", "128", input.path, output.path]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let raw = [UInt8](try Data(contentsOf: output))
            let theirs = (0..<(raw.count / 2)).map { UInt16(raw[2 * $0]) | UInt16(raw[2 * $0 + 1]) << 8 }
            #expect(theirs == (try CCSDS121.decode(payload, bits: Int(header.bitsPerSample), count: header.lines * header.samples)))
        }
    }

    @Test func corruptPayloadsAreRejectedNotCrashed() throws {
        let (header, payload) = try #require(try Self.sampleFragments().first { $0.header.compression == .ccsds121 })
        #expect(throws: CodecError.self) { try FragmentDecoder.samples(header: header, payload: payload.prefix(payload.count / 3)) }
        var jpegHeader = header
        jpegHeader.compressionCode = Compression.jpeg.rawValue
        #expect(throws: CodecError.self) { try FragmentDecoder.samples(header: jpegHeader, payload: payload) }
        var rawHeader = header
        rawHeader.compressionCode = Compression.none.rawValue
        #expect(throws: CodecError.self) { try FragmentDecoder.samples(header: rawHeader, payload: payload) }
    }

    @Test func compandingRoundTripsWithinItsQuantisation() {
        for dn in stride(from: 0, through: 16383, by: 97) {
            let back = SquareRootCompanding.expand(SquareRootCompanding.compress(UInt16(dn), bits: 14), bits: 14)
            // One code step of the square-root curve at this DN.
            let step = 2 * (Double(dn) * 16383).squareRoot() / 255 + 1
            #expect(abs(Double(back) - Double(dn)) <= step)
        }
        #expect(SquareRootCompanding.compress(16383, bits: 14) == 255)
        #expect(SquareRootCompanding.expand(255, bits: 14) == 16383)
    }

    @Test func pngAndJpegRoundTripThroughTheRealLibraries() throws {
        let width = 37, height = 23
        let gray = (0..<(width * height)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let png = try PNG.encode(gray, width: width, height: height, layout: .gray8)
        #expect(png.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try PNG.decode(png, as: .gray8)
        #expect(decoded.width == width && decoded.height == height && decoded.pixels == gray)

        let sixteen = (0..<(width * height)).flatMap { i -> [UInt8] in withUnsafeBytes(of: UInt16(i * 61)) { Array($0) } }
        let png16 = try PNG.encode(sixteen, width: width, height: height, layout: .gray16)
        #expect(try PNG.decode(png16, as: .gray16).pixels == sixteen)

        let rgb = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0) }
        #expect(try PNG.decode(try PNG.encode(rgb, width: width, height: height, layout: .rgb8), as: .rgb8).pixels == rgb)

        let smooth = (0..<(width * height)).map { UInt8(($0 % width) * 5) }
        let jpeg = try JPEG.encodeGray(.init(width: width, height: height, pixels: smooth), quality: 95)
        let back = try JPEG.decodeGray(jpeg)
        #expect(back.width == width && back.height == height)
        #expect(zip(back.pixels, smooth).allSatisfy { abs(Int($0) - Int($1)) <= 6 })
        #expect(throws: CodecError.self) { try PNG.decode([1, 2, 3], as: .gray8) }
        #expect(throws: CodecError.self) { try JPEG.decodeGray([0xFF, 0xD8, 0x00]) }
        // A JPEG whose header claims another size than the fragment's is refused before its pixels are allocated.
        #expect(throws: CodecError.self) { try JPEG.decodeGray(jpeg, size: (width + 1, height)) }
        #expect(try JPEG.decodeGray(jpeg, size: (width, height)).pixels == back.pixels)
    }

    /// A header from outside may claim far more samples than its payload can carry: refused
    /// before anything is allocated (CCSDS 121.0 carries at most 2048 samples per octet with the
    /// ICD's parameters; no fragment decodes to more than 4096² samples).
    @Test func fragmentsThatClaimMoreThanTheirPayloadCanHoldAreRefused() throws {
        let samples = [UInt16](repeating: 0, count: 64 * 64)
        let payload = try CCSDS121.encode(samples, bits: 12)
        func header(rows: UInt16, cols: UInt16, compression: Compression) -> FragmentHeader {
            FragmentHeader(observationID: 1, frameletIndex: 0, band: .pan, compression: compression, exposureStart: SpacecraftClock(coarse: 1, fine: 0),
                           exposureDurationMicroseconds: 1, windowFirstRow: 0, windowRows: rows, windowFirstColumn: 0, windowColumns: cols,
                           bitsPerSample: 12, binning: 1, rotationAngleCentidegrees: 0, frameletsPlannedPerBand: 1,
                           payloadLength: UInt32(payload.count), payloadCRC: 0, detectorTemperatureCentidegrees: 0)
        }
        #expect(try FragmentDecoder.samples(header: header(rows: 64, cols: 64, compression: .ccsds121), payload: payload) == samples)
        #expect(payload.count * 2048 < 4000 * 4000)
        #expect(throws: CodecError.self) { try FragmentDecoder.samples(header: header(rows: 4000, cols: 4000, compression: .ccsds121), payload: payload) }
        #expect(throws: CodecError.self) { try FragmentDecoder.samples(header: header(rows: 65535, cols: 65535, compression: .jpeg), payload: payload) }
    }
}
