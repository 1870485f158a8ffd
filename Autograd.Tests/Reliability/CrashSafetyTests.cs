using System.Globalization;
using System.Text;
using Autograd.CharLm;
using Autograd.Tests.Cli;

namespace Autograd.Tests.Reliability;

/// <summary>
/// SIGKILL a training process again and again the moment a checkpoint save starts (no sleeps: the
/// writer's temporary file is the signal): the checkpoint on disk is always a complete one that loads
/// and evaluates (saves go to a temporary file and are renamed).
/// </summary>
public class CrashSafetyTests
{
    [Test]
    public void KilledWhileCheckpointing_LastGoodCheckpointAlwaysLoads()
    {
        string dir = Path.Combine(Path.GetTempPath(), "autograd-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string corpus = Path.Combine(dir, "corpus.txt");
            var sb = new StringBuilder();
            for (int i = 0; i < 400; i++) sb.Append(i % 3 == 0 ? "KING:\nWhat say you?\n\n" : "QUEEN:\nNothing, my lord.\n\n");
            File.WriteAllText(corpus, sb.ToString());
            string run = Path.Combine(dir, "run");
            string best = Path.Combine(run, "best.safetensors");
            var rng = new Random(7);
            int killsWithCheckpoint = 0;
            var vocabulary = Autograd.CharLm.Vocabulary.FromText(sb.ToString());
            int[] ids = vocabulary.Encode(sb.ToString(), corpus);
            const int Kills = 10;
            int midWrite = 0;
            Directory.CreateDirectory(run);
            for (int k = 0; k < Kills; k++)
            {
                // The writer creates ".best.safetensors.<guid>.tmp" when a save starts: that is the signal to
                // kill, so the kill lands while a checkpoint is being written, however fast or slow the machine.
                using var watcher = new FileSystemWatcher(run, ".best.safetensors.*.tmp");
                using var saveStarted = new SemaphoreSlim(0);
                watcher.Created += (_, _) => saveStarted.Release();
                watcher.EnableRaisingEvents = true;
                // Validation (and a checkpoint write whenever it improves) after every step: writes are constant.
                using var p = CliRunner.Start(dir, "train", "--data", corpus, "--cell", "lstm", "--hidden", "256", "--seq-len", "8", "--batch", "2",
                    "--steps", "100000", "--eval-every", "1", "--eval-chars", "40", "--lr-schedule", "constant", "--sample-length", "0",
                    "--seed", k.ToString(CultureInfo.InvariantCulture), "--out", run);
                _ = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null); // keep the progress output flowing
                var stderr = p.StandardError.ReadToEndAsync();
                // Skip 0-2 saves so that the kill also hits later ones (the first save of a run has no predecessor).
                int saves = rng.Next(1, 4);
                for (int n = 0; n < saves; n++)
                {
                    if (!saveStarted.Wait(TimeSpan.FromSeconds(90)))
                    {
                        bool exited = p.HasExited;
                        if (!exited) p.Kill();
                        Assert.Fail($"kill {k}: no checkpoint save started within 90 s (save {n + 1} of {saves}; process {(exited ? "had exited" : "still running")}): {stderr.Result}");
                    }
                }
                p.Kill(); // SIGKILL on Linux: no handler, no cleanup
                p.WaitForExit();
                if (Directory.EnumerateFiles(run, ".best.safetensors.*.tmp").Any()) midWrite++;
                if (!File.Exists(best)) continue;
                killsWithCheckpoint++;
                var model = Checkpoint.Load(best).Model;
                var result = Evaluator.Evaluate(model, ids[..2000]);
                Assert.That(double.IsFinite(result.NatsPerSymbol), Is.True, $"kill {k}: the surviving checkpoint evaluates");
                foreach (var stale in Directory.EnumerateFiles(run, ".best.safetensors.*.tmp")) File.Delete(stale);
            }
            Assert.That(killsWithCheckpoint, Is.GreaterThanOrEqualTo(Kills - 1), "most kills happened with a checkpoint on disk");
            Assert.That(midWrite, Is.GreaterThan(0), "some kill landed while a checkpoint was half written");
            TestContext.Out.WriteLine($"{Kills} SIGKILLs on a save starting, {midWrite} left a half-written temporary file, {killsWithCheckpoint} with a checkpoint on disk; every one loaded and evaluated");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
