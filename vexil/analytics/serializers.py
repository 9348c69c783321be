from rest_framework import serializers


class EvaluationDataQuerySerializer(serializers.Serializer):
    environment_id = serializers.IntegerField(min_value=1)
    period = serializers.IntegerField(min_value=1, max_value=90, default=30)


class EvaluationDataSerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
