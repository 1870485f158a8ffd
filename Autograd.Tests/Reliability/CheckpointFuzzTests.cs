using System.Buffers.Binary;
using System.Text;
using Autograd.Nn;
using Autograd.Nn.Serialization;
using Autograd.CharLm;

namespace Autograd.Tests.Reliability;

/// <summary>
/// ≥ 1,000 corrupt checkpoints from a fixed seed: truncations, bit flips and header mutations.
/// Every one is refused with <see cref="CheckpointFormatException"/>; none crashes, hangs, or
/// allocates more than twice the file's size.
/// </summary>
public class CheckpointFuzzTests
{
    private const long ErrorAllowance = 8 * 1024;

    private static byte[] ValidCheckpoint(out string dir)
    {
        dir = Path.Combine(Path.GetTempPath(), "autograd-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var model = new CharLanguageModel(Vocabulary.FromText("abcdefghij klmnop\n"), new CharModelConfig(CellKind.Gru, HiddenSize: 64), seed: 1);
        string path = Path.Combine(dir, "good.safetensors");
        Checkpoint.Save(path, model);
        return File.ReadAllBytes(path);
    }

    private static IEnumerable<(string Kind, byte[] Bytes)> Mutants(byte[] good, int count)
    {
        var rng = new Random(20261128);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        string header = Encoding.UTF8.GetString(good, 8, headerLength);
        for (int i = 0; i < count; i++)
        {
            var b = (byte[])good.Clone();
            switch (i % 6)
            {
                case 0: // truncation anywhere, including inside the length field and the header
                    yield return ("truncated", good[..rng.Next(0, good.Length)]);
                    break;
                case 1: // bit flips in the length field or header (where the structure lives)
                    for (int k = 0, n = rng.Next(1, 4); k < n; k++)
                    {
                        int at = rng.Next(0, 8 + headerLength);
                        b[at] ^= (byte)(1 << rng.Next(8));
                    }
                    yield return ("bit-flip", b);
                    break;
                case 2: // a hostile header length
                    ulong[] lengths = [0, 1, (ulong)headerLength + 1, (ulong)good.Length, ulong.MaxValue, (ulong)int.MaxValue, (ulong)rng.NextInt64()];
                    BinaryPrimitives.WriteUInt64LittleEndian(b, lengths[rng.Next(lengths.Length)]);
                    yield return ("header-length", b);
                    break;
                case 3: // numbers in the header replaced by other numbers (offsets, shapes)
                    yield return ("header-number", WithHeader(good, headerLength, MutateNumber(header, rng)));
                    break;
                case 4: // structural edits of the JSON text
                    yield return ("header-text", WithHeader(good, headerLength, MutateText(header, rng)));
                    break;
                default: // bytes deleted from or inserted into the header
                    int pos = rng.Next(8, 8 + headerLength);
                    var list = b.ToList();
                    if (rng.Next(2) == 0) list.RemoveAt(pos);
                    else list.Insert(pos, (byte)"{}[]\",:0123456789-e"[rng.Next(19)]);
                    yield return ("header-splice", list.ToArray());
                    break;
            }
        }
    }

    private static byte[] WithHeader(byte[] good, int oldLength, string header)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var r = new byte[8 + h.Length + good.Length - 8 - oldLength];
        BinaryPrimitives.WriteUInt64LittleEndian(r, (ulong)h.Length);
        h.CopyTo(r, 8);
        good.AsSpan(8 + oldLength).CopyTo(r.AsSpan(8 + h.Length));
        return r;
    }

    private static string MutateNumber(string header, Random rng)
    {
        var digits = Enumerable.Range(0, header.Length).Where(i => char.IsDigit(header[i]) && (i == 0 || !char.IsDigit(header[i - 1]))).ToArray();
        int start = digits[rng.Next(digits.Length)];
        int end = start;
        while (end < header.Length && char.IsDigit(header[end])) end++;
        string[] replacements = ["0", "1", "-1", "999999999999", "2147483647", "4294967296", (rng.Next(0, 100000)).ToString(), "1e9", "3.5"];
        return header[..start] + replacements[rng.Next(replacements.Length)] + header[end..];
    }

    private static string MutateText(string header, Random rng)
    {
        string[] edits = ["\"F32\"|\"F16\"", "\"F32\"|\"I64\"", "\"F32\"|\"X9\"", "data_offsets|offsets", "shape|shap", "\"dtype\"|\"dtype2\"",
                          "__metadata__|__meta__", "\"format\"|\"fmt\"", "[|{", "]|}", ":|,", "layers.0.W_v|layers.9.W_v", "\"vocab\"|\"vocab2\""];
        var (from, to) = edits[rng.Next(edits.Length)].Split('|') is var p ? (p[0], p[1]) : default;
        int at = header.IndexOf(from, rng.Next(header.Length / 2), StringComparison.Ordinal);
        if (at < 0) at = header.IndexOf(from, StringComparison.Ordinal);
        return at < 0 ? header + "x" : header[..at] + to + header[(at + from.Length)..];
    }

    [Test]
    public void ThousandCorruptCheckpoints_AreAllRefusedCleanly()
    {
        var good = ValidCheckpoint(out string dir);
        try
        {
            Assert.That(Checkpoint.Load(Path.Combine(dir, "good.safetensors")).Model, Is.Not.Null, "the unmutated file loads");
            int refused = 0, same = 0;
            double maxRatio = 0;
            var kinds = new Dictionary<string, int>();
            string path = Path.Combine(dir, "mutant.safetensors");
            foreach (var (kind, bytes) in Mutants(good, 1200))
            {
                if (bytes.AsSpan().SequenceEqual(good)) { same++; continue; }
                File.WriteAllBytes(path, bytes);
                Exception? error = null;
                long allocated = 0;
                var task = Task.Run(() =>
                {
                    // A first load on this pool thread warms its per-thread caches (ArrayPool buffers behind string
                    // formatting): a fresh thread would otherwise count ~1 KB that has nothing to do with the file.
                    try { Checkpoint.Load(path); } catch (Exception) { } // judged on the measured load below
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    try { Checkpoint.Load(path); }
                    catch (Exception e) { error = e; }
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                });
                Assert.That(task.Wait(TimeSpan.FromSeconds(10)), Is.True, $"{kind}: the loader hung");
                if (error is null) continue; // a mutation that still describes a valid checkpoint (e.g. a metadata digit)
                Assert.That(error, Is.InstanceOf<CheckpointFormatException>(), $"{kind}: {error}");
                Assert.That(error!.Message, Does.Contain("mutant.safetensors"), kind);
                Assert.That(error.Message, Does.Not.Contain("\n"), $"{kind}: one line");
                // Twice the file, plus a fixed allowance for the exception and its one-line message
                // (a 10-byte file cannot be refused in 20 bytes); nothing proportional to a claimed length.
                Assert.That(allocated, Is.LessThanOrEqualTo(2L * bytes.Length + ErrorAllowance), $"{kind}: allocated {allocated} bytes for a {bytes.Length}-byte file");
                maxRatio = Math.Max(maxRatio, (double)allocated / bytes.Length);
                refused++;
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
            TestContext.Out.WriteLine($"refused {refused} of {1200 - same} mutants ({string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))}); worst allocation {maxRatio:F2} x the file size");
            Assert.That(refused, Is.GreaterThanOrEqualTo(1000));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
