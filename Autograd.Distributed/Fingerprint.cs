using System.Runtime.InteropServices;
using System.Text;

namespace Autograd.Distributed;

/// <summary>
/// A 64-bit fingerprint of bytes (FNV-1a over 8-byte words), the same in every process: to compare
/// configurations or weights across ranks without sending them (<see cref="CommunicatorExtensions.AllSame"/>).
/// </summary>
/// <remarks>
/// Each word step <c>h = (h ^ w) · p</c> is a bijection of <c>h</c> (p is odd), so two inputs of equal
/// length that differ in exactly one word always get different fingerprints. Not cryptographic.
/// (<see cref="HashCode"/> is seeded per process, so it cannot be used across ranks.)
/// </remarks>
public struct Fingerprint
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private ulong _hash;
    private bool _started;

    /// <summary>The fingerprint of everything added so far.</summary>
    public readonly ulong Value => _started ? _hash : Offset;

    /// <summary>Adds raw bytes (their length too, so "ab"+"c" differs from "a"+"bc").</summary>
    public void Add(ReadOnlySpan<byte> bytes)
    {
        if (!_started) { _hash = Offset; _started = true; }
        ulong h = (_hash ^ (ulong)bytes.Length) * Prime;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong w in words) h = (h ^ w) * Prime;
        foreach (byte b in bytes[(words.Length * 8)..]) h = (h ^ b) * Prime;
        _hash = h;
    }

    /// <summary>Adds the bits of unmanaged values (floats bit for bit: -0 differs from +0).</summary>
    public void Add<T>(ReadOnlySpan<T> values) where T : unmanaged => Add(MemoryMarshal.AsBytes(values));

    /// <summary>Adds a string as UTF-8.</summary>
    public void Add(string text) => Add(Encoding.UTF8.GetBytes(text ?? ""));

    /// <summary>The fingerprint of one string.</summary>
    public static ulong Of(string text)
    {
        var f = new Fingerprint();
        f.Add(text);
        return f.Value;
    }
}
