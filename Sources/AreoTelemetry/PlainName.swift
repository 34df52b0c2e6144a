/// The one rule for a name that comes from outside and becomes a file name or a key: 1 to
/// `length` characters of `[A-Za-z0-9._-]`, and not `.` or `..` (uploads, archive members,
/// prefetch sessions).
public enum PlainName {
    public static func isValid(_ text: some StringProtocol, length: Int = 200) -> Bool {
        !text.isEmpty && text.utf8.count <= length && text != "." && text != ".."
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95 || $0 == 45 }
    }
}
