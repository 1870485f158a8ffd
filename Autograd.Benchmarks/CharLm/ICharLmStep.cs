namespace Autograd.Benchmarks.CharLm;

/// <summary>One implementation of the Char-LM training step, built once and stepped repeatedly.</summary>
public interface ICharLmStep : IDisposable
{
    /// <summary>Forward + backward + SGD update on the fixed batch; returns the loss before the update.</summary>
    float Step();
}
