// Train a character-level language model on a small text and sample from it, with Autograd.CharLm
// (vocabulary, trainer, checkpoints, sampler) on top of Autograd.Nn's LSTM. Three of Shakespeare's
// sonnets (sonnets.txt) are the default corpus; --data FILE trains on any UTF-8 text instead.
//
//     dotnet run -c Release -- --steps 300 [--data FILE]
using Autograd.CharLm;
using Autograd.Nn;

int steps = 300;
string? data = null;
for (int i = 0; i < args.Length; i += 2)
{
    if (i + 1 < args.Length && args[i] == "--steps" && int.TryParse(args[i + 1], out int n) && n > 0) steps = n;
    else if (i + 1 < args.Length && args[i] == "--data") data = args[i + 1];
    else { Console.Error.WriteLine("usage: CharModel [--steps N] [--data FILE]"); return 2; }
}

string text = TextCorpus.LoadFile(data ?? Path.Combine(AppContext.BaseDirectory, "sonnets.txt"));
var vocabulary = Vocabulary.FromText(text);
var (train, validation) = TextCorpus.Split(vocabulary.Encode(text), trainFraction: 0.9);
Console.WriteLine($"{text.Length} characters, {vocabulary.Count} symbols; training on {train.Length}, validating on {validation.Length}");

var model = new CharLanguageModel(vocabulary, new CharModelConfig(CellKind.Lstm, HiddenSize: 128), seed: 1);
var options = new TrainingOptions
{
    MaxSteps = steps,
    SequenceLength = 32,
    BatchSize = 8,
    LearningRate = 5e-3,
    EvaluationInterval = Math.Max(1, steps / 5),
    Seed = 1,
};
string checkpoint = Path.Combine(Path.GetTempPath(), $"charmodel-{Environment.ProcessId}.safetensors");
var trainer = new CharTrainer(model, train, validation, options) { BestCheckpointPath = checkpoint };
trainer.Evaluated += r => Console.WriteLine($"step {r.Step}: validation {r.Validation.NatsPerSymbol:F3} nats/char{(r.IsBest ? " (best)" : "")}");
var result = trainer.Run();
Console.WriteLine($"{result.StepsThisRun} steps in {result.Elapsed.TotalSeconds:F1} s; best validation {result.BestValidationLoss:F3} nats/char");

// The best model by validation loss, back from its checkpoint (weights, vocabulary and configuration).
var best = Checkpoint.Load(checkpoint).Model;
File.Delete(checkpoint);
string prime = data is null ? "Shall I " : "";
Console.WriteLine("---");
Console.WriteLine(prime + Sampler.Sample(best, new SamplingOptions { Length = 300, Temperature = 0.8, Prime = prime, Seed = 1 }));
return double.IsFinite(result.BestValidationLoss) ? 0 : 1;
