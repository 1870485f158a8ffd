namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise sum with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b) => a.Add(b);
    /// <summary>Elementwise difference with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b) => a.Subtract(b);
    /// <summary>Elementwise product with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => a.Multiply(b);
    /// <summary>Elementwise quotient with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b) => a.Divide(b);
    /// <summary>Elementwise negation.</summary>
    public static Tensor<T> operator -(Tensor<T> a) => a.Negate();

    public static Tensor<T> operator +(Tensor<T> a, T b) => a.Add(Tensor.Scalar(b));
    public static Tensor<T> operator +(T a, Tensor<T> b) => Tensor.Scalar(a).Add(b);
    public static Tensor<T> operator -(Tensor<T> a, T b) => a.Subtract(Tensor.Scalar(b));
    public static Tensor<T> operator -(T a, Tensor<T> b) => Tensor.Scalar(a).Subtract(b);
    public static Tensor<T> operator *(Tensor<T> a, T b) => a.Multiply(Tensor.Scalar(b));
    public static Tensor<T> operator *(T a, Tensor<T> b) => Tensor.Scalar(a).Multiply(b);
    public static Tensor<T> operator /(Tensor<T> a, T b) => a.Divide(Tensor.Scalar(b));
    public static Tensor<T> operator /(T a, Tensor<T> b) => Tensor.Scalar(a).Divide(b);
}
