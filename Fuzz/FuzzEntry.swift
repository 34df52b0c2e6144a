// The libFuzzer entry point (built by scripts/fuzz with -sanitize=fuzzer,address): runs the
// target named by AREO_FUZZ_TARGET from AreoFuzzTargets on each input.
import AreoFuzzTargets
import Foundation

let target: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["AREO_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("AREO_FUZZ_TARGET must be one of \(FuzzTargets.all.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
