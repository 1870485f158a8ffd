using System.Text;
using Autograd.Distributed;

namespace Autograd.Tests.MpiWorker;

/// <summary>Each collective of <see cref="MpiCommunicator"/> on every type, with values whose result is exact.</summary>
public static class CollectiveChecks
{
    /// <summary>One line per check, "ok ..." or "FAIL ..."; the same on every rank when all is well.</summary>
    public static string Run(MpiCommunicator world)
    {
        var report = new StringBuilder();
        void Check(string what, bool ok) => report.Append(ok ? "ok   " : "FAIL ").AppendLine(what);
        int r = world.Rank, n = world.Size;
        long rankSum = n * (n - 1L) / 2;

        var floats = Enumerable.Range(0, 1001).Select(i => (float)(i % 13 + r)).ToArray();
        world.AllReduce(floats, ReduceOperation.Sum);
        Check("float sum", floats.Select((v, i) => v == n * (i % 13) + rankSum).All(x => x));

        var doubles = Enumerable.Range(0, 9).Select(i => i * 0.25 - r).ToArray();
        var min = doubles.ToArray();
        world.AllReduce(doubles, ReduceOperation.Max);
        world.AllReduce(min, ReduceOperation.Min);
        Check("double max and min", doubles.Select((v, i) => v == i * 0.25 && min[i] == i * 0.25 - (n - 1)).All(x => x));

        Span<long> longs = [(1L << 40) + r, -r];
        world.AllReduce(longs, ReduceOperation.Sum);
        Check("int64 sum", longs[0] == n * (1L << 40) + rankSum && longs[1] == -rankSum);

        Span<ulong> ulongs = [ulong.MaxValue - (ulong)r, (ulong)r];
        world.AllReduce(ulongs, ReduceOperation.Max);
        Check("uint64 max (top bit set)", ulongs[0] == ulong.MaxValue && ulongs[1] == (ulong)(n - 1));

        var same = world.AllSame([42UL, (ulong)r]);
        Check("AllSame", same[0] && !same[1]);

        var bytes = r == n - 1 ? Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray() : new byte[300];
        world.Broadcast(bytes.AsSpan(), root: n - 1);
        Check("broadcast from the last rank", bytes.Select((b, i) => b == (byte)(i * 7)).All(x => x));

        // Larger-than-one-call buffers go in pieces; force pieces of 7 elements.
        int saved = MpiCommunicator.MaxCount;
        MpiCommunicator.MaxCount = 7;
        try
        {
            var pieces = Enumerable.Range(0, 50).Select(i => (double)(i + r)).ToArray();
            world.AllReduce(pieces, ReduceOperation.Sum);
            Check("all-reduce in pieces", pieces.Select((v, i) => v == n * i + rankSum).All(x => x));
            var text = r == 0 ? Encoding.ASCII.GetBytes("broadcast in 7-byte pieces!") : new byte[27];
            world.Broadcast(text.AsSpan(), root: 0);
            Check("broadcast in pieces", Encoding.ASCII.GetString(text) == "broadcast in 7-byte pieces!");
        }
        finally
        {
            MpiCommunicator.MaxCount = saved;
        }
        Check("library version", world.LibraryVersion.Length > 0);
        return report.ToString();
    }
}
