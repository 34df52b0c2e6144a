internal import CZlib
import AreoCompute

extension PNG {
    /// Encodes an RGB image given as three 8-bit planes (one plane: gray), interleaving each
    /// strip's rows as they are deflated; large images are deflated in parallel strips.
    public static func encode(planes: [[UInt8]], width: Int, height: Int) throws(CodecError) -> [UInt8] {
        guard planes.count == 1 || planes.count == 3, planes.allSatisfy({ $0.count == width * height }) else {
            throw CodecError(.png, "\(planes.count) planes of \(planes.map(\.count)) bytes for a \(width)×\(height) image")
        }
        guard width * height > 4_000_000, height >= 64 else {
            let pixels = planes.count == 1 ? planes[0] : PixelPlanes.interleaved(planes, count: width * height)
            return try encode(pixels, width: width, height: height, layout: planes.count == 1 ? .gray8 : .rgb8)
        }
        if planes.count == 1 { return try encodeParallel(planes[0], width: width, height: height, layout: .gray8) }
        return try withPlanes(planes) { r, g, b throws(CodecError) in
            nonisolated(unsafe) let (r, g, b) = (r, g, b)
            return try encodeParallel(width: width, height: height, layout: .rgb8) { row, target in
                let base = row * width
                for k in 0..<width {
                    (target[3 * k], target[3 * k + 1], target[3 * k + 2]) = (r[base + k], g[base + k], b[base + k])
                }
            }
        }
    }

    /// Encodes 16-bit gray samples (native order; written big-endian as PNG wants, with the
    /// gAMA and cHRM chunks libpng writes for linear data); large images in parallel strips.
    public static func encode(gray16 samples: [UInt16], width: Int, height: Int) throws(CodecError) -> [UInt8] {
        guard samples.count == width * height else { throw CodecError(.png, "\(samples.count) samples for a \(width)×\(height) image") }
        guard width * height > 4_000_000, height >= 64 else {
            let bytes = samples.withUnsafeBytes { [UInt8]($0) }
            return try encode(bytes, width: width, height: height, layout: .gray16)
        }
        return try samples.withUnsafeBufferPointer { source throws(CodecError) in
            nonisolated(unsafe) let source = source
            return try encodeParallel(width: width, height: height, layout: .gray16) { row, target in
                for k in 0..<width {
                    let v = source[row * width + k]
                    (target[2 * k], target[2 * k + 1]) = (UInt8(v >> 8), UInt8(truncatingIfNeeded: v))
                }
            }
        }
    }

    /// An 8-bit image (gray or RGB) already interleaved, in parallel strips.
    static func encodeParallel(_ pixels: [UInt8], width: Int, height: Int, layout: Layout) throws(CodecError) -> [UInt8] {
        precondition(layout != .gray16)
        let stride = width * layout.bytesPerPixel
        return try pixels.withUnsafeBufferPointer { source throws(CodecError) in
            nonisolated(unsafe) let source = source
            return try encodeParallel(width: width, height: height, layout: layout) { row, target in
                target.baseAddress!.update(from: source.baseAddress! + row * stride, count: stride)
            }
        }
    }

    private static func withPlanes<T>(
        _ planes: [[UInt8]], _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) throws(CodecError) -> T
    ) throws(CodecError) -> T {
        var result: Result<T, CodecError>! = nil
        planes[0].withUnsafeBufferPointer { r in
            planes[1].withUnsafeBufferPointer { g in
                planes[2].withUnsafeBufferPointer { b in
                    result = Result { () throws(CodecError) in try body(r, g, b) }
                }
            }
        }
        return try result.get()
    }

    /// Deflates the image's rows in parallel strips, each row written by `writeRow(row, bytes)`
    /// after its filter byte: each strip is raw deflate ending on a byte boundary (sync flush),
    /// the strips concatenated form one zlib stream (header, blocks, the Adler-32 of all rows
    /// combined), as pigz does. The Up filter and compression level 1, on every core.
    static func encodeParallel(
        width: Int, height: Int, layout: Layout, writeRow: @Sendable (Int, UnsafeMutableBufferPointer<UInt8>) -> Void
    ) throws(CodecError) -> [UInt8] {
        let stride = width * layout.bytesPerPixel
        let strips = max(1, min(height, 16))
        var outputs = [[UInt8]](repeating: [], count: strips)
        var adlers = [UInt](repeating: 0, count: strips)
        var lengths = [Int](repeating: 0, count: strips)
        var failed = false
        outputs.withUnsafeMutableBufferPointer { outputs in
        adlers.withUnsafeMutableBufferPointer { adlers in
        lengths.withUnsafeMutableBufferPointer { lengths in
            nonisolated(unsafe) let (outputs, adlers, lengths) = (outputs, adlers, lengths)
            nonisolated(unsafe) var anyFailed = false
            ComputeThreads.shared.perform(iterations: strips) { strip in
                let rows = (height * strip / strips)..<(height * (strip + 1) / strips)
                // The strip's rows go through deflate a block at a time, each preceded by its
                // filter type: Up (2), each byte less the byte above it — imagery is smoother down
                // than it is noisy, so deflate finds more and longer matches (measured: files a
                // third smaller, deflate faster). The block and output buffers are reused: a strip
                // never holds its raw rows whole (fresh memory is what a large image costs most).
                let blockRows = max(1, min(rows.count, (1 << 20) / (stride + 1)))
                var block = [UInt8](repeating: 0, count: blockRows * (stride + 1))
                var above = [UInt8](repeating: 0, count: stride), current = [UInt8](repeating: 0, count: stride)
                var chunk = [UInt8](repeating: 0, count: 1 << 18)
                var compressed: [UInt8] = []
                compressed.reserveCapacity(rows.count * stride / 4)
                // The row above the strip's first (zeros above the image's first row).
                above.withUnsafeMutableBufferPointer { if rows.lowerBound > 0 { writeRow(rows.lowerBound - 1, $0) } }
                var stream = z_stream()
                guard deflateInit2_(&stream, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    anyFailed = true
                    return
                }
                defer { deflateEnd(&stream) }
                let last = strip == strips - 1
                var adler = UInt(adler32(1, nil, 0))
                var next = rows.lowerBound
                while next < rows.upperBound {
                    let count = min(blockRows, rows.upperBound - next)
                    block.withUnsafeMutableBufferPointer { block in
                        for k in 0..<count {
                            let target = block.baseAddress! + k * (stride + 1)
                            target[0] = 2
                            current.withUnsafeMutableBufferPointer { current in
                                writeRow(next + k, current)
                                above.withUnsafeMutableBufferPointer { above in
                                    for i in 0..<stride { target[1 + i] = current[i] &- above[i] }
                                    above.baseAddress!.update(from: current.baseAddress!, count: stride)
                                }
                            }
                        }
                    }
                    next += count
                    let flush = next < rows.upperBound ? Z_NO_FLUSH : (last ? Z_FINISH : Z_SYNC_FLUSH)
                    let bytes = count * (stride + 1)
                    adler = block.withUnsafeBufferPointer { UInt(adler32(uLong(adler), $0.baseAddress, uInt(bytes))) }
                    var status = Z_OK
                    block.withUnsafeMutableBufferPointer { input in
                        stream.next_in = input.baseAddress
                        stream.avail_in = uInt(bytes)
                        repeat {
                            chunk.withUnsafeMutableBufferPointer { output in
                                stream.next_out = output.baseAddress
                                stream.avail_out = uInt(output.count)
                                status = deflate(&stream, flush)
                                compressed.append(contentsOf: UnsafeBufferPointer(rebasing: output[0..<(output.count - Int(stream.avail_out))]))
                            }
                        } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
                    }
                    if status == Z_STREAM_ERROR || (flush == Z_FINISH && status != Z_STREAM_END) || (flush != Z_FINISH && status != Z_OK && status != Z_BUF_ERROR) {
                        anyFailed = true
                        return
                    }
                }
                lengths[strip] = rows.count * (stride + 1)
                adlers[strip] = adler
                outputs[strip] = compressed
            }
            failed = anyFailed
        }
        }
        }
        guard !failed else { throw CodecError(.png, "deflate failed") }
        var adler = UInt(adler32(0, nil, 0))
        for (value, length) in zip(adlers, lengths) { adler = UInt(adler32_combine(uLong(adler), uLong(value), off_t(length))) }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png.reserveCapacity(outputs.reduce(256) { $0 + $1.count + 16 })
        func chunk(_ type: String, _ parts: [UInt8]...) {
            let typeBytes = Array(type.utf8)
            png += bigEndian(UInt32(parts.reduce(0) { $0 + $1.count }))
            var crc = crc32(0, typeBytes, uInt(typeBytes.count))
            png += typeBytes
            for data in parts {
                crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
                png += data
            }
            png += bigEndian(UInt32(crc))
        }
        let (bitDepth, colourType): (UInt8, UInt8) = switch layout {
        case .gray8: (8, 0)
        case .gray16: (16, 0)
        case .rgb8: (8, 2)
        case .grayAlpha8: (8, 4)
        case .rgba8: (8, 6)
        }
        chunk("IHDR", bigEndian(UInt32(width)), bigEndian(UInt32(height)), [bitDepth, colourType, 0, 0, 0])
        if layout == .gray16 {
            // As libpng's simplified writer marks linear (16-bit) data: gamma 1.0, sRGB primaries.
            chunk("gAMA", bigEndian(100_000))
            chunk("cHRM", [31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000].flatMap { bigEndian(UInt32($0)) })
        }
        // zlib header: deflate, 32 KiB window, fastest level (0x78 0x01).
        let trailer = bigEndian(UInt32(adler))
        chunk("IDAT", [0x78, 0x01], outputs[0], strips == 1 ? trailer : [])
        for strip in 1..<max(1, strips) {
            chunk("IDAT", outputs[strip], strip == strips - 1 ? trailer : [])
        }
        chunk("IEND")
        return png
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
