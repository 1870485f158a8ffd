using Autograd.Nn;
using Autograd.CharLm;

namespace Autograd.Tests.Reliability;

/// <summary>The trainer notices non-finite losses and gradients, stops clearly, and never saves such a model.</summary>
public class NonFiniteTrainingTests
{
    private const string Text = "to be or not to be, that is the question. ";

    private static (CharLanguageModel Model, int[] Train, int[] Validation) Setup()
    {
        var model = new CharLanguageModel(Vocabulary.FromText(Text), new CharModelConfig(CellKind.Gru, 8), seed: 2);
        var ids = model.Vocabulary.Encode(string.Concat(Enumerable.Repeat(Text, 30)));
        var (train, validation) = TextCorpus.Split(ids);
        return (model, train, validation);
    }

    [TestCase(1.0)]
    [TestCase(0.0)] // no clipping: the norm is still checked
    public void PoisonedWeights_TrainingStopsWithAClearMessage_AndWritesNoCheckpoint(double clip)
    {
        var (model, train, validation) = Setup();
        var w = model.Network.StateDict()["layers.0.W_hr"];
        var values = w.ToArray();
        values[0] = float.NaN;
        w.CopyFrom(values);
        string dir = Path.Combine(Path.GetTempPath(), "autograd-nan-" + Guid.NewGuid().ToString("N"));
        var trainer = new CharTrainer(model, train, validation,
            new TrainingOptions { SequenceLength = 8, BatchSize = 2, MaxSteps = 50, EvaluationInterval = 5, ClipNorm = clip })
        {
            BestCheckpointPath = Path.Combine(dir, "best.safetensors"),
            LastCheckpointPath = Path.Combine(dir, "last.safetensors"),
        };
        // TrainingDivergedException is an InvalidOperationException (what this threw before it had its own type).
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.That(ex, Is.InstanceOf<InvalidOperationException>());
        Assert.That(ex!.Message, Does.Contain("non-finite").And.Contain("diverged"));
        Assert.That(Directory.Exists(dir) && Directory.EnumerateFiles(dir).Any(), Is.False, "no checkpoint was written");
    }

    [Test]
    public void Save_RefusesNonFiniteWeights()
    {
        var (model, _, _) = Setup();
        var b = model.Network.StateDict()["layers.0.B_v"];
        var values = b.ToArray();
        values[1] = float.PositiveInfinity;
        b.CopyFrom(values);
        string path = Path.Combine(Path.GetTempPath(), "autograd-inf-" + Guid.NewGuid().ToString("N") + ".safetensors");
        var ex = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(path, model));
        Assert.That(ex!.Message, Does.Contain("layers.0.B_v").And.Contain("non-finite"));
        Assert.That(File.Exists(path), Is.False);
    }
}
