"""Deliberately broken frameworks.py models: each redefines one function of a copy of the reference.

Every record must lose points in exactly its function, and fail at least the
checks it lists (``tests/test_banks.py``).
"""
from __future__ import annotations

from banks.record import Broken

__all__ = ["BROKEN", "CORRECT"]

BROKEN: tuple[Broken, ...] = (
    Broken('xavier', 'build_torch_model', ('he_variance',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            g = torch.Generator().manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.xavier_normal_(m.weight, generator=g)
                        nn.init.zeros_(m.bias)
            return model
        """),
    Broken('fan_out', 'build_torch_model', ('he_variance',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            g = torch.Generator().manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                                nonlinearity="relu", generator=g)
                        nn.init.zeros_(m.bias)
            return model
        """),
    Broken('kaiming_uniform', 'build_torch_model', ('normal_tails',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            g = torch.Generator().manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.kaiming_uniform_(m.weight, nonlinearity="relu", generator=g)
                        nn.init.zeros_(m.bias)
            return model
        """),
    Broken('default_biases', 'build_torch_model', ('zero_bias',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            torch.manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            return model
        """),
    Broken('wrong_widths', 'build_torch_model', ('architecture',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            g = torch.Generator().manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 32), nn.ReLU(), nn.Linear(32, 10))
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=g)
                        nn.init.zeros_(m.bias)
            return model
        """),
    Broken('missing_relu', 'build_torch_model', ('architecture',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            g = torch.Generator().manual_seed(int(seed))
            model = nn.Sequential(nn.Linear(100, 64), nn.Linear(64, 10))
            with torch.no_grad():
                for m in model:
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=g)
                    nn.init.zeros_(m.bias)
            return model
        """),
    Broken('global_rng', 'build_torch_model', ('deterministic',), """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                        nn.init.zeros_(m.bias)
            return model
        """),
    Broken('handout_input_shape', 'build_keras_model', ('no_warning',), """
        def build_keras_model(seed=0):
            import keras
            return keras.Sequential([
                keras.layers.Dense(64, activation="relu", input_shape=(100,),
                                   kernel_initializer=keras.initializers.HeNormal(seed=seed)),
                keras.layers.Dense(10, activation="softmax",
                                   kernel_initializer=keras.initializers.HeNormal(seed=seed + 1)),
            ])
        """),
    Broken('default_glorot', 'build_keras_model', ('he_variance', 'truncated_normal'), """
        def build_keras_model(seed=0):
            import keras
            keras.utils.set_random_seed(int(seed))
            return keras.Sequential([keras.Input((100,)),
                                     keras.layers.Dense(64, activation="relu"),
                                     keras.layers.Dense(10, activation="softmax")])
        """),
    Broken('untruncated_normal', 'build_keras_model', ('truncated_normal',), """
        def build_keras_model(seed=0):
            import math
            import keras
            init = keras.initializers.RandomNormal
            return keras.Sequential([
                keras.Input((100,)),
                keras.layers.Dense(64, activation="relu",
                                   kernel_initializer=init(stddev=math.sqrt(2 / 100), seed=seed)),
                keras.layers.Dense(10, activation="softmax",
                                   kernel_initializer=init(stddev=math.sqrt(2 / 64),
                                                           seed=seed + 1)),
            ])
        """),
    Broken('random_biases', 'build_keras_model', ('zero_bias',), """
        def build_keras_model(seed=0):
            import keras
            he, rn = keras.initializers.HeNormal, keras.initializers.RandomNormal
            return keras.Sequential([
                keras.Input((100,)),
                keras.layers.Dense(64, activation="relu", kernel_initializer=he(seed=seed),
                                   bias_initializer=rn(stddev=0.1, seed=seed + 2)),
                keras.layers.Dense(10, activation="softmax",
                                   kernel_initializer=he(seed=seed + 1)),
            ])
        """),
    Broken('missing_softmax', 'build_keras_model', ('architecture',), """
        def build_keras_model(seed=0):
            import keras
            he = keras.initializers.HeNormal
            return keras.Sequential([
                keras.Input((100,)),
                keras.layers.Dense(64, activation="relu", kernel_initializer=he(seed=seed)),
                keras.layers.Dense(10, kernel_initializer=he(seed=seed + 1)),
            ])
        """),
    Broken('wrong_widths', 'build_keras_model', ('architecture',), """
        def build_keras_model(seed=0):
            import keras
            he = keras.initializers.HeNormal
            return keras.Sequential([
                keras.Input((100,)),
                keras.layers.Dense(32, activation="relu", kernel_initializer=he(seed=seed)),
                keras.layers.Dense(10, activation="softmax",
                                   kernel_initializer=he(seed=seed + 1)),
            ])
        """),
    Broken('unseeded', 'build_keras_model', ('deterministic',), """
        def build_keras_model(seed=0):
            import keras
            he = keras.initializers.HeNormal
            return keras.Sequential([
                keras.Input((100,)),
                keras.layers.Dense(64, activation="relu", kernel_initializer=he()),
                keras.layers.Dense(10, activation="softmax", kernel_initializer=he()),
            ])
        """),
)

#: other correct styles (an nn.Module subclass, a functional Keras model): full marks
CORRECT = """
        def build_torch_model(seed=0):
            import torch
            from torch import nn
            import torch.nn.functional as F

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.hidden = nn.Linear(100, 64)
                    self.out = nn.Linear(64, 10)

                def forward(self, x):
                    return self.out(F.relu(self.hidden(x)))

            torch.manual_seed(int(seed))
            net = Net()
            for layer in (net.hidden, net.out):
                nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(layer.bias)
            return net

        def build_keras_model(seed=0):
            import keras
            inputs = keras.Input(shape=(100,))
            init = keras.initializers.VarianceScaling
            h = keras.layers.Dense(64, kernel_initializer=init(
                2.0, "fan_in", "truncated_normal", seed=10 * seed))(inputs)
            h = keras.layers.ReLU()(h)
            out = keras.layers.Dense(10, activation="softmax", kernel_initializer=init(
                2.0, "fan_in", "truncated_normal", seed=10 * seed + 1))(h)
            return keras.Model(inputs, out)
        """
