using System.Globalization;
using Autograd.Benchmarks.CharLm;
using Autograd.Benchmarks.Micro;
using Autograd.Nn;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>
/// <c>--ratios</c>: a short run of one Char-LM size (all cells) plus MATMUL and SCALAR at one thread
/// count, then a table of median times and ours/peer ratios (below 1 = ours is faster).
/// Options: <c>--size S|M|L</c> (default M), <c>--threads N</c> (default 1), <c>--iterations N</c>
/// (default 15), <c>--warmup N</c> (default 8), <c>--cells Rnn,Gru,Lstm</c> (default all), <c>--char-lm-only</c>
/// (skip MATMUL and SCALAR).
/// </summary>
public static class RatiosMode
{
    public static int Run(string[] args)
    {
        var size = CharLmSize.M;
        // 8 warm-up iterations of 250 ms: long enough for tiered JIT to reach its final code (3 short ones read slow).
        int threads = 1, iterations = 15, warmups = 8;
        var cells = Enum.GetValues<CellKind>().ToHashSet();
        bool charLmOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--char-lm-only") { charLmOnly = true; continue; }
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"--ratios: option {args[i]} needs a value.");
            switch (args[i])
            {
                case "--size": size = Enum.Parse<CharLmSize>(value, ignoreCase: true); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--iterations": iterations = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmups = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--cells": cells = value.Split(',').Select(c => Enum.Parse<CellKind>(c, ignoreCase: true)).ToHashSet(); break;
                default: throw new ArgumentException($"--ratios: unknown option {args[i]} (known: --size, --threads, --iterations, --warmup, --cells, --char-lm-only).");
            }
            i++;
        }

        var config = SuiteConfig.Short(warmups, iterations);
        bool OfRun(BenchmarkCase c) => Equals(c.Parameters["Size"], size) && cells.Contains((CellKind)c.Parameters["Cell"]);
        var runs = new List<BenchmarkRunInfo>
        {
            Select<CharLmStepBenchmarks>(config, c => OfRun(c) && Equals(c.Parameters["Threads"], threads)),
            Select<CharLmReferenceBenchmarks>(config, OfRun),   // has no size L: then empty
        };
        if (!charLmOnly)
        {
            runs.Add(Select<MatMulBenchmarks>(config, c => Equals(c.Parameters["Threads"], threads)));
            runs.Add(Select<ScalarGraphBenchmarks>(config, _ => true));
        }
        var summaries = BenchmarkRunner.Run(runs.Where(r => r.BenchmarksCases.Length > 0).ToArray());
        PrintTable(summaries, size, threads);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static BenchmarkRunInfo Select<TBenchmarks>(IConfig config, Func<BenchmarkCase, bool> keep)
    {
        var all = BenchmarkConverter.TypeToBenchmarks(typeof(TBenchmarks), config);
        return new BenchmarkRunInfo(all.BenchmarksCases.Where(keep).ToArray(), all.Type, all.Config);
    }

    private static void PrintTable(IEnumerable<Summary> summaries, CharLmSize size, int threads)
    {
        Console.WriteLine();
        Console.WriteLine($"## Ours / peer, median time ratio (< 1: ours faster). Char-LM size {size}, {threads} thread(s)");
        Console.WriteLine();
        Console.WriteLine("| workload | peer | ours | peer time | ours / peer |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        // Group across summaries: the reference Char-LM benchmarks live in their own class.
        var groups = summaries.SelectMany(s => s.Reports)
            .Where(r => r.ResultStatistics is not null)
            .GroupBy(r => Workload(r.BenchmarkCase));
        {
            foreach (var group in groups)
            {
                var ours = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == "Ours");
                foreach (var peer in group.Where(r => r != ours))
                {
                    string peerName = peer.BenchmarkCase.Descriptor.WorkloadMethod.Name;
                    double peerMedian = peer.ResultStatistics!.Median;
                    string oursText = ours is null ? "-" : Format(ours.ResultStatistics!.Median, group.Key);
                    string ratio = ours is null ? "-" : (ours.ResultStatistics!.Median / peerMedian).ToString("F2", CultureInfo.InvariantCulture);
                    Console.WriteLine($"| {group.Key} | {peerName} | {oursText} | {Format(peerMedian, group.Key)} | {ratio} |");
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("Medians of a short run; the machine may be shared and noisy. Run the full suite for publishable numbers.");
    }

    private static string Workload(BenchmarkCase benchmarkCase)
    {
        string type = benchmarkCase.Descriptor.Type.Name.Replace("Benchmarks", "", StringComparison.Ordinal);
        if (type.StartsWith("CharLm", StringComparison.Ordinal)) type = "CharLm";
        // Threads is fixed for the whole run (and said in the heading); the reference class has no such parameter.
        string parameters = string.Join(" ", benchmarkCase.Parameters.Items.Where(p => p.Name != "Threads").Select(p => $"{p.Name}={p.Value}"));
        return parameters.Length == 0 ? type : $"{type} {parameters}";
    }

    // Medians are in ns per operation; SCALAR is per scalar op (µs), the rest per step (ms).
    private static string Format(double nanoseconds, string workload) =>
        workload.StartsWith("ScalarGraph", StringComparison.Ordinal)
            ? (nanoseconds / 1e3).ToString("F2", CultureInfo.InvariantCulture) + " µs/op"
            : (nanoseconds / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " ms";
}
