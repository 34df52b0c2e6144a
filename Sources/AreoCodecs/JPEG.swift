internal import CTurboJPEG

/// Baseline 8-bit JPEG through libjpeg-turbo's TurboJPEG API (errors are returned, never exit()).
public enum JPEG {
    /// A decoded greyscale image.
    public struct GrayImage: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var pixels: [UInt8]

        public init(width: Int, height: Int, pixels: [UInt8]) {
            self.width = width
            self.height = height
            self.pixels = pixels
        }
    }

    /// Decodes a JPEG to 8-bit grey.
    /// - Parameter size: the width and height the image must have: a JPEG whose header says
    ///   otherwise is refused before anything is allocated for its pixels (a 30-byte header may
    ///   claim 65 535 × 65 535). Without it, at most 2²⁶ pixels are decoded.
    public static func decodeGray(_ data: some Collection<UInt8>, size: (width: Int, height: Int)? = nil) throws(CodecError) -> GrayImage {
        let input = Array(data)
        guard let handle = tjInitDecompress() else { throw CodecError(.jpeg, "cannot initialise the decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        var status = input.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(input.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0, width > 0, height > 0 else { throw CodecError(.jpeg, "not a JPEG: \(errorString(handle))") }
        if let size, size.width != Int(width) || size.height != Int(height) {
            throw CodecError(.jpeg, "image is \(width)×\(height), expected \(size.width)×\(size.height)")
        }
        guard Int(width) * Int(height) <= 1 << 26 else { throw CodecError(.jpeg, "image of \(width)×\(height) pixels is larger than 2²⁶") }
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height))
        status = input.withUnsafeBufferPointer { inBuffer in
            pixels.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, inBuffer.baseAddress, UInt(input.count), out.baseAddress, width, width, height, Int32(TJPF_GRAY.rawValue), 0)
            }
        }
        guard status == 0 else { throw CodecError(.jpeg, "cannot decode: \(errorString(handle))") }
        return GrayImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    /// Encodes 8-bit grey (quality 1–100) as baseline JPEG.
    public static func encodeGray(_ image: GrayImage, quality: Int = 95) throws(CodecError) -> [UInt8] {
        try encode(image.pixels, width: image.width, height: image.height, format: TJPF_GRAY, subsampling: TJSAMP_GRAY, quality: quality)
    }

    /// Encodes interleaved 8-bit RGB as baseline JPEG.
    public static func encodeRGB(_ pixels: [UInt8], width: Int, height: Int, quality: Int = 90) throws(CodecError) -> [UInt8] {
        try encode(pixels, width: width, height: height, format: TJPF_RGB, subsampling: TJSAMP_444, quality: quality)
    }

    private static func encode(_ pixels: [UInt8], width: Int, height: Int, format: TJPF, subsampling: TJSAMP, quality: Int) throws(CodecError) -> [UInt8] {
        guard let handle = tjInitCompress() else { throw CodecError(.jpeg, "cannot initialise the encoder") }
        defer { tjDestroy(handle) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue), &out, &size,
                        Int32(subsampling.rawValue), Int32(quality), 0)
        }
        defer { if let out { tjFree(out) } }
        guard status == 0, let out else { throw CodecError(.jpeg, "cannot encode: \(errorString(handle))") }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    private static func errorString(_ handle: tjhandle) -> String {
        tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
    }
}
