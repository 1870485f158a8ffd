using Autograd.Nn;
using Autograd.Onnx;
using Autograd.CharLm;
using Microsoft.ML.OnnxRuntime;

namespace Autograd.Tests.Onnx;

/// <summary>The exported char model, run greedily in ONNX Runtime, writes the text that <c>autograd sample --greedy</c> writes.</summary>
public class OnnxSamplerEquivalenceTests
{
    private const string Text = "ROMEO:\nBut soft, what light through yonder window breaks?\n\nJULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n\n";

    [TestCase(CellKind.Lstm, 2)]
    [TestCase(CellKind.Gru, 1)]
    public void GreedyText_OnnxRuntime_EqualsSampler(CellKind cell, int layers)
    {
        var model = new CharLanguageModel(Vocabulary.FromText(Text), new CharModelConfig(cell, 24, layers), seed: 4);
        var ids = model.Vocabulary.Encode(string.Concat(Enumerable.Repeat(Text, 20)));
        var (train, validation) = TextCorpus.Split(ids);
        new CharTrainer(model, train, validation, new TrainingOptions { SequenceLength = 16, BatchSize = 4, MaxSteps = 80, EvaluationInterval = 80, LearningRate = 1e-2 }).Run();

        const string Prime = "ROMEO:\n";
        const int Length = 80;
        string expected = Sampler.Sample(model, new SamplingOptions { Greedy = true, Length = Length, Prime = Prime });

        string path = Path.Combine(Path.GetTempPath(), "autograd-greedy-" + Guid.NewGuid().ToString("N") + ".onnx");
        var vocab = Enumerable.Range(0, model.Vocabulary.Count).Select(i => model.Vocabulary[i].ToString()).ToArray();
        OnnxExporter.Export(model.Network, path, new OnnxExportOptions { Vocabulary = vocab });
        try
        {
            using var session = new InferenceSession(path);
            var stateNames = session.InputMetadata.Keys.Where(k => k.StartsWith("initial_", StringComparison.Ordinal)).ToArray();
            var state = stateNames.ToDictionary(n => n, n => new float[session.InputMetadata[n].Dimensions[2]]);
            var text = new System.Text.StringBuilder();
            long[] feed = model.Vocabulary.Encode(Prime).Select(i => (long)i).ToArray();
            for (int step = 0; step < Length; step++)
            {
                var inputs = new Dictionary<string, OrtValue> { ["ids"] = OrtValue.CreateTensorValueFromMemory(feed, [1, feed.Length]) };
                foreach (var (name, values) in state) inputs[name] = OrtValue.CreateTensorValueFromMemory(values, [1, 1, values.Length]);
                var outputNames = new[] { "output" }.Concat(stateNames.Select(n => "final_" + n["initial_".Length..])).ToArray();
                using (var results = session.Run(new RunOptions(), inputs, outputNames))
                {
                    var logits = results[0].GetTensorDataAsSpan<float>();
                    var last = logits[^vocab.Length..];
                    int next = 0;
                    for (int i = 1; i < last.Length; i++) if (last[i] > last[next]) next = i;
                    text.Append(vocab[next]);
                    for (int s = 0; s < stateNames.Length; s++) state[stateNames[s]] = results[s + 1].GetTensorDataAsSpan<float>().ToArray();
                    feed = [next];
                }
                foreach (var v in inputs.Values) v.Dispose();
            }
            Assert.That(text.ToString(), Is.EqualTo(expected));
            Assert.That(expected.Distinct().Count(), Is.GreaterThan(3), "the model learned something to say");
            TestContext.Out.WriteLine($"{cell}: {expected.Replace("\n", "\\n")}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
