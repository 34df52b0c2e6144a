internal import CZlib
import Dispatch

extension PNG {
    /// Encodes an 8-bit image (gray or RGB) with its rows deflated in parallel strips: each strip
    /// is raw deflate ending on a byte boundary (sync flush), the strips concatenated form one
    /// zlib stream (header, blocks, the Adler-32 of all rows combined), as pigz does. No row
    /// filters, compression level 1 — the same trade as libpng's fast flag, on every core.
    static func encodeParallel(_ pixels: [UInt8], width: Int, height: Int, layout: Layout) throws(CodecError) -> [UInt8] {
        precondition(layout != .gray16)
        let channels = layout.bytesPerPixel
        let stride = width * channels
        let strips = max(1, min(height, 16))
        var outputs = [[UInt8]](repeating: [], count: strips)
        var adlers = [UInt](repeating: 0, count: strips)
        var lengths = [Int](repeating: 0, count: strips)
        var failed = false
        pixels.withUnsafeBufferPointer { source in
            outputs.withUnsafeMutableBufferPointer { outputs in
            adlers.withUnsafeMutableBufferPointer { adlers in
            lengths.withUnsafeMutableBufferPointer { lengths in
                nonisolated(unsafe) let (source, outputs, adlers, lengths) = (source, outputs, adlers, lengths)
                nonisolated(unsafe) var anyFailed = false
                DispatchQueue.concurrentPerform(iterations: strips) { strip in
                    let rows = (height * strip / strips)..<(height * (strip + 1) / strips)
                    // The strip's rows, each preceded by filter type 0.
                    var raw = [UInt8](repeating: 0, count: rows.count * (stride + 1))
                    raw.withUnsafeMutableBufferPointer { raw in
                        for (k, row) in rows.enumerated() {
                            let target = raw.baseAddress! + k * (stride + 1) + 1
                            target.update(from: source.baseAddress! + row * stride, count: stride)
                        }
                    }
                    var stream = z_stream()
                    guard deflateInit2_(&stream, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                        anyFailed = true
                        return
                    }
                    defer { deflateEnd(&stream) }
                    var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(raw.count))) + 64)
                    let last = strip == strips - 1
                    let status = raw.withUnsafeMutableBufferPointer { input in
                        out.withUnsafeMutableBufferPointer { output in
                            stream.next_in = input.baseAddress
                            stream.avail_in = uInt(input.count)
                            stream.next_out = output.baseAddress
                            stream.avail_out = uInt(output.count)
                            return deflate(&stream, last ? Z_FINISH : Z_SYNC_FLUSH)
                        }
                    }
                    guard status == (last ? Z_STREAM_END : Z_OK), stream.avail_in == 0 else {
                        anyFailed = true
                        return
                    }
                    lengths[strip] = raw.count
                    adlers[strip] = UInt(raw.withUnsafeBufferPointer { adler32(1, $0.baseAddress, uInt($0.count)) })
                    out.removeLast(Int(stream.avail_out))
                    outputs[strip] = out
                }
                failed = anyFailed
            }
            }
            }
        }
        guard !failed else { throw CodecError(.png, "deflate failed") }
        var adler = UInt(adler32(0, nil, 0))
        for (value, length) in zip(adlers, lengths) { adler = UInt(adler32_combine(uLong(adler), uLong(value), off_t(length))) }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            let typeBytes = Array(type.utf8)
            png += bigEndian(UInt32(data.count))
            var crc = crc32(0, typeBytes, uInt(typeBytes.count))
            crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            png += typeBytes
            png += data
            png += bigEndian(UInt32(crc))
        }
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, layout == .rgb8 ? 2 : 0, 0, 0, 0])
        // zlib header: deflate, 32 KiB window, fastest level (0x78 0x01).
        var first = [UInt8]([0x78, 0x01]) + outputs[0]
        if strips == 1 { first += bigEndian(UInt32(adler)) }
        chunk("IDAT", first)
        for strip in 1..<max(1, strips) {
            chunk("IDAT", strip == strips - 1 ? outputs[strip] + bigEndian(UInt32(adler)) : outputs[strip])
        }
        chunk("IEND", [])
        return png
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
