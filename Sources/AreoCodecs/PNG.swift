internal import CPNG

/// PNG through libpng's simplified API (errors by return value, no longjmp).
public enum PNG {
    /// Pixel layouts Areo writes.
    public enum Layout: Sendable {
        case gray8, gray16, rgb8
        /// 8-bit grey with alpha (map tiles: transparent where there is no data).
        case grayAlpha8
        /// 8-bit colour with alpha (map tiles).
        case rgba8

        var format: UInt32 {
            switch self {
            case .gray8: UInt32(PNG_FORMAT_GRAY)
            case .gray16: UInt32(PNG_FORMAT_LINEAR_Y)
            case .rgb8: UInt32(PNG_FORMAT_RGB)
            case .grayAlpha8: UInt32(PNG_FORMAT_FLAG_ALPHA)
            case .rgba8: UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
            }
        }
        /// Components per pixel (libpng's row stride counts components).
        var channels: Int {
            switch self {
            case .gray8, .gray16: 1
            case .grayAlpha8: 2
            case .rgb8: 3
            case .rgba8: 4
            }
        }
        var bytesPerPixel: Int {
            switch self {
            case .gray8: 1
            case .gray16: 2
            case .rgb8: 3
            case .grayAlpha8: 2
            case .rgba8: 4
            }
        }
    }

    /// Encodes pixels (for `gray16`, native-endian UInt16 values as bytes) to PNG, in one pass
    /// into a buffer sized for the worst case. `fast` trades file size for speed (libpng's
    /// `PNG_IMAGE_FLAG_FAST`: no row filters, light compression); by default it is used for images
    /// over 4 megapixels, where deflate would otherwise dominate a product's making.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, layout: Layout, fast: Bool? = nil) throws(CodecError) -> [UInt8] {
        guard pixels.count == width * height * layout.bytesPerPixel else {
            throw CodecError(.png, "\(pixels.count) bytes for a \(width)×\(height) image")
        }
        let quick = fast ?? (width * height > 4_000_000)
        if quick, layout != .gray16, height >= 64 {
            // Large 8-bit images: deflated in parallel strips (the same trade as libpng's fast flag).
            return try encodeParallel(pixels, width: width, height: height, layout: layout)
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = layout.format
        if quick { image.flags |= UInt32(PNG_IMAGE_FLAG_FAST) }
        let stride = Int32(width * layout.channels)
        // Stored deflate blocks bound the output: the rows with their filter bytes, 5 bytes per
        // 64 KiB block, and the chunk headers.
        let raw = pixels.count + height
        var capacity = raw + raw / 8192 * 5 + 4096
        for _ in 0..<2 {
            var size = capacity
            var out = [UInt8](repeating: 0, count: capacity)
            let ok = out.withUnsafeMutableBytes { buffer in
                pixels.withUnsafeBytes { png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
            }
            if ok != 0 {
                out.removeLast(out.count - size)
                return out
            }
            guard size > capacity else { throw CodecError(.png, "cannot encode: \(message(image))") }
            capacity = size  // the buffer was too small: libpng says how much it needs
            png_image_free(&image)
        }
        throw CodecError(.png, "cannot encode: \(message(image))")
    }

    /// Decodes a PNG to the given layout.
    public static func decode(_ data: [UInt8], as layout: Layout) throws(CodecError) -> (width: Int, height: Int, pixels: [UInt8]) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, data.count) }
        guard begun != 0 else { throw CodecError(.png, "not a PNG: \(message(image))") }
        image.format = layout.format
        var pixels = [UInt8](repeating: 0, count: Int(image.width) * Int(image.height) * layout.bytesPerPixel)
        let stride = Int32(Int(image.width) * layout.channels)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, stride, nil) }
        guard ok != 0 else { throw CodecError(.png, "cannot decode: \(message(image))") }
        return (Int(image.width), Int(image.height), pixels)
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
