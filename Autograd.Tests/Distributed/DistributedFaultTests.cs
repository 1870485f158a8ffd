using System.Diagnostics;
using System.Text;
using Autograd.CharLm;
using Autograd.Tests.Cli;

namespace Autograd.Tests.Distributed;

/// <summary>
/// SIGKILL one rank of a 2-rank training job while it runs: the whole job ends within 30 s (no rank
/// hangs in a collective), and the checkpoint on disk loads and evaluates.
/// </summary>
[TestFixture]
[NonParallelizable]
public class DistributedFaultTests
{
    [TestCase(0)]
    [TestCase(1)]
    public void OneRankKilled_JobEndsWithin30Seconds_LastCheckpointLoads(int victim)
    {
        MpiJob.RequireMpi();
        string dir = Path.Combine(Path.GetTempPath(), "autograd-mpi-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string corpus = Path.Combine(dir, "corpus.txt");
            File.WriteAllText(corpus, DistributedCliTests.MakeCorpus(), new UTF8Encoding(false));
            string best = Path.Combine(dir, "run", "best.safetensors");
            // Validation and (when it improves) a checkpoint every 2 steps: the kill lands among writes.
            using var job = MpiJob.Start(dir, (2, CliRunner.CliDll, ["train", "--distributed", "--data", corpus, "--cell", "lstm", "--hidden", "64",
                "--seq-len", "16", "--batch", "4", "--steps", "1000000", "--eval-every", "2", "--eval-chars", "200", "--lr", "0.01",
                "--lr-schedule", "constant", "--sample-length", "0", "--out", Path.Combine(dir, "run")]));
            var stdout = job.StandardOutput.ReadToEndAsync();
            var stderr = job.StandardError.ReadToEndAsync();
            var wait = Stopwatch.StartNew();
            while (!File.Exists(best) && !job.HasExited && wait.Elapsed < TimeSpan.FromSeconds(90)) Thread.Sleep(100);
            Assert.That(job.HasExited, Is.False, () => $"training ended on its own: {stdout.Result} {stderr.Result}");
            Assert.That(File.Exists(best), Is.True, "a checkpoint was written within 90 s");
            Thread.Sleep(1500); // more steps and writes

            var ranks = MpiJob.RankPids(job);
            Assert.That(ranks.Keys, Is.EquivalentTo(new[] { 0, 1 }), "both ranks found under mpiexec");
            var clock = Stopwatch.StartNew();
            Process.GetProcessById(ranks[victim]).Kill(); // SIGKILL: no handler, no cleanup
            bool ended = job.WaitForExit(TimeSpan.FromSeconds(30));
            var took = clock.Elapsed;
            if (!ended) job.Kill(entireProcessTree: true);
            Assert.That(ended, Is.True, $"mpiexec still runs 30 s after rank {victim} was killed");
            job.WaitForExit();
            TestContext.Out.WriteLine($"rank {victim} SIGKILLed: job ended after {took.TotalSeconds:F2} s, mpiexec exit code {job.ExitCode}");
            Assert.That(job.ExitCode, Is.Not.Zero, "a killed job does not report success");
            int survivor = ranks[1 - victim];
            Assert.That(() => Process.GetProcessById(survivor).HasExited, Throws.ArgumentException.Or.True, $"rank {1 - victim} (pid {survivor}) is gone");

            var model = Checkpoint.Load(best).Model;
            var ids = model.Vocabulary.Encode(File.ReadAllText(corpus));
            Assert.That(double.IsFinite(Evaluator.Evaluate(model, ids[..2000]).NatsPerSymbol), Is.True, "the checkpoint on disk evaluates");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
