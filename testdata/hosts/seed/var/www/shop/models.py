from django.db import models


class Visit(models.Model):
    remote_addr = models.CharField(max_length=15)
    path = models.CharField(max_length=200)
