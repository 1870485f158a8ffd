using Autograd.Backends;

namespace Autograd.Tests;

/// <summary>
/// Base of fixtures that run on every backend (<c>[TestFixture("cpu")] [TestFixture("reference")]</c>): each
/// test runs with <see cref="Backend.Current"/> set to the named backend, so the seam is real only if both pass.
/// </summary>
public abstract class BackendFixture(string backend)
{
    private Backend _saved = null!;

    [SetUp]
    public void UseBackend()
    {
        _saved = Backend.Current;
        Backend.Current = Backend.FromName(backend);
        Assert.That(Backend.Current.Name, Is.EqualTo(backend));
    }

    [TearDown]
    public void RestoreBackend() => Backend.Current = _saved;
}
