using System.Globalization;
using System.Text;
using Autograd.CharLm;
using Autograd.Tests.Cli;

namespace Autograd.Tests.Reliability;

/// <summary>
/// SIGKILL a training process again and again while it writes checkpoints: the checkpoint on disk
/// is always a complete one that loads and evaluates (saves go to a temporary file and are renamed).
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
            for (int k = 0; k < Kills; k++)
            {
                // Validation (and a checkpoint write whenever it improves) after every step: writes are constant.
                using var p = CliRunner.Start(dir, "train", "--data", corpus, "--cell", "lstm", "--hidden", "256", "--seq-len", "8", "--batch", "2",
                    "--steps", "100000", "--eval-every", "1", "--eval-chars", "40", "--lr-schedule", "constant", "--sample-length", "0",
                    "--seed", k.ToString(CultureInfo.InvariantCulture), "--out", run);
                _ = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null); // keep the progress output flowing
                Thread.Sleep(rng.Next(1500, 4000));
                if (p.HasExited) Assert.Fail($"kill {k}: training ended on its own: {p.StandardError.ReadToEnd()}");
                p.Kill(); // SIGKILL on Linux: no handler, no cleanup
                p.WaitForExit();
                if (!File.Exists(best)) continue;
                killsWithCheckpoint++;
                var model = Checkpoint.Load(best).Model;
                var result = Evaluator.Evaluate(model, ids[..2000]);
                Assert.That(double.IsFinite(result.NatsPerSymbol), Is.True, $"kill {k}: the surviving checkpoint evaluates");
            }
            Assert.That(killsWithCheckpoint, Is.GreaterThanOrEqualTo(Kills - 1), "most kills happened with a checkpoint on disk");
            TestContext.Out.WriteLine($"{Kills} SIGKILLs, {killsWithCheckpoint} with a checkpoint on disk; every one loaded and evaluated");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
