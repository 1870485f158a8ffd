using Autograd.Nn;
using Autograd.CharLm;
using Microsoft.ML.OnnxRuntime;

namespace Autograd.Tests.Cli;

/// <summary><c>autograd export</c> as a process: the file it writes opens in ONNX Runtime and scores like our model.</summary>
public class ExportCommandTests
{
    [Test]
    public void Export_WritesAModelOnnxRuntimeRuns_AndRefusesBadInput()
    {
        string dir = Path.Combine(Path.GetTempPath(), "autograd-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var model = new CharLanguageModel(Vocabulary.FromText("abc de\n"), new CharModelConfig(CellKind.Gru, HiddenSize: 8, Layers: 2), seed: 3);
            string checkpoint = Path.Combine(dir, "model.safetensors");
            Checkpoint.Save(checkpoint, model);
            string onnx = Path.Combine(dir, "model.onnx");

            var ok = CliRunner.Run(dir, "export", "--checkpoint", checkpoint, "--out", onnx);
            Assert.That(ok.ExitCode, Is.EqualTo(0), ok.ToString());
            Assert.That(ok.StdOut, Does.Contain("model.onnx"));

            using var session = new InferenceSession(onnx);
            Assert.That(session.InputMetadata.Keys, Is.SupersetOf(new[] { "ids", "initial_h_0", "initial_h_1" }));
            long[] ids = [0, 3, 1, 4];
            var inputs = new Dictionary<string, OrtValue> { ["ids"] = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]) };
            foreach (var name in new[] { "initial_h_0", "initial_h_1" })
                inputs[name] = OrtValue.CreateTensorValueFromMemory(new float[8], [1, 1, 8]);
            using var results = session.Run(new RunOptions(), inputs, ["output"]);
            var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
            model.Network.ResetState();
            var ours = model.Forward([0, 3, 1, 4], 1, 4).ToArray();
            Assert.That(logits, Is.EqualTo(ours).Within(1e-5));
            foreach (var v in inputs.Values) v.Dispose();

            var missing = CliRunner.Run(dir, "export", "--checkpoint", Path.Combine(dir, "nope.safetensors"), "--out", onnx);
            Assert.That(missing.ExitCode, Is.Not.EqualTo(0));
            Assert.That(missing.ErrorLines, Has.Length.EqualTo(1));
            Assert.That(missing.StdErr, Does.Contain("nope.safetensors").And.Not.Contain("   at "));
            var badFolder = CliRunner.Run(dir, "export", "--checkpoint", checkpoint, "--out", Path.Combine(dir, "no", "such", "m.onnx"));
            Assert.That(badFolder.ExitCode, Is.Not.EqualTo(0));
            Assert.That(badFolder.ErrorLines, Has.Length.EqualTo(1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
