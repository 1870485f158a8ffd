using Autograd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks;

/// <summary>
/// Entry point. <c>--smoke</c>: load check; <c>--ratios [options]</c>: short run and ours/peer table;
/// anything else goes to BenchmarkSwitcher with the full-suite configuration (e.g. <c>--filter *CharLm*</c>).
/// See README.md in this folder.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--smoke", ..]) return SmokeMode.Run();
        if (args is ["--ratios", .. var rest]) return RatiosMode.Run(rest);
        // A job given on the command line (e.g. --job short) replaces the suite's default job. Such a job
        // lacks the TorchSharp patch argument (SuiteConfig.WithTorchSharpPatch), so it runs in-process.
        bool jobGiven = args.Any(a => a is "-j" or "--job" || a.StartsWith("--job=", StringComparison.Ordinal));
        var config = jobGiven ? SuiteConfig.WithoutJob() : SuiteConfig.Full();
        if (jobGiven && !args.Contains("--inProcess"))
        {
            Console.WriteLine("// A job was given on the command line: adding --inProcess so TorchSharp loads (see README.md).");
            args = [.. args, "--inProcess"];
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
